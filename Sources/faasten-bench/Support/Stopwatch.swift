#if canImport(Glibc)
    import Glibc
#endif

/// Percentiles of per-operation times over many timed batches.
struct Distribution: Sendable {
    let p50: Double
    let p99: Double

    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        func at(_ q: Double) -> Double { sorted[Swift.min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.down)))] }
        p50 = at(0.5)
        p99 = at(0.99)
    }
}

/// Times short operations in batches: a batch of `batchSize` calls is timed as a whole
/// (clock reads cost ~20 ns here, as much as the operations) and counts as one sample
/// of the per-operation time.
enum Stopwatch {
    @inline(__always)
    static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Measures `subject` and `baseline` in alternating batches, so that both see the
    /// same machine state. Each closure gets the batch's start index into its inputs.
    static func compare(
        batches: Int, batchSize: Int, warmup: Int = 20,
        subject: (Int) -> Void, baseline: (Int) -> Void
    ) -> (subject: Distribution, baseline: Distribution) {
        var subjectSamples: [Double] = []
        var baselineSamples: [Double] = []
        subjectSamples.reserveCapacity(batches)
        baselineSamples.reserveCapacity(batches)
        for batch in 0..<(warmup + batches) {
            let start = batch &* batchSize
            let t0 = nanoseconds()
            subject(start)
            let t1 = nanoseconds()
            baseline(start)
            let t2 = nanoseconds()
            if batch >= warmup {
                subjectSamples.append(Double(t1 - t0) / Double(batchSize))
                baselineSamples.append(Double(t2 - t1) / Double(batchSize))
            }
        }
        return (Distribution(subjectSamples), Distribution(baselineSamples))
    }
}

/// Keeps a value alive so the optimizer cannot drop the work that made it.
@inline(never) @_optimize(none)
func blackHole<T>(_ value: T) {}
