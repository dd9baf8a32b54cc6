import ArgumentParser
import LabelSamples
import Labels

/// `faasten-bench labels`: the label algebra against plain sorted-array work of the same size.
struct LabelsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labels",
        abstract: "ns/op of canFlow, canFlow with privilege, lub, parse and print; 100k queries through `faasten label batch`.",
        discussion: """
            Typical labels: 1-4 clauses of 1-3 principals of depth <= 3. Large: 50 clauses.
            Baselines, on the same principals as sorted [String] arrays: a subset test (canFlow),
            a sorted merge (lub), splitting the text at separators (parse), joining (print).
            """
    )

    @OptionGroup var options: BenchmarkOptions

    func run() throws {
        var report = BenchmarkReport(title: "faasten-bench labels (ns/op; median and p99 over timed batches)")
        measure(
            "typical", sampler: .typical, pool: 1024, batches: options.iterations(4000), batchSize: 64, into: &report,
            targets: ["canflow.p50": 150, "parse.p50": 2000])
        measure(
            "large", sampler: .large, pool: 64, batches: options.iterations(300), batchSize: 4, into: &report,
            targets: [:])
        let count = options.quick ? LabelsBatchWorkload.queryCount / 10 : LabelsBatchWorkload.queryCount
        let batch = try LabelsBatchWorkload.measure(count: count)
        report.add(
            "labels.batch.\(count / 1000)k", unit: "ms", batch.binary, baseline: batch.inProcess,
            target: options.quick ? nil : 3000, note: "same queries answered in-process")
        options.print(report)
    }

    /// One workload: labels, pairs that do and do not flow, privileges, and their
    /// sorted-string-array twins for the baselines.
    struct Workload {
        let first: [Label]
        let second: [Label]
        let privileges: [Privilege]
        let texts: [String]
        let firstNames: [[String]]
        let secondNames: [[String]]
        let secondWithPrivilegeNames: [[String]]

        init(sampler: LabelSampler, count: Int) {
            var rng = SplitMix64(seed: 0x5EED)
            var first: [Label] = []
            var second: [Label] = []
            var privileges: [Privilege] = []
            for index in 0..<count {
                let a = sampler.label(using: &rng)
                let b = sampler.label(using: &rng)
                first.append(a)
                // Half the pairs flow, half are unrelated random pairs. The flowing partner
                // has a's size class: more secret, and a's integrity weakened clause by clause
                // (lub would multiply integrity clauses: 50 × 50 for large labels).
                second.append(index % 2 == 0 ? Workload.above(a, b, sampler, &rng) : b)
                privileges.append(sampler.privilege(using: &rng))
            }
            self.first = first
            self.second = second
            self.privileges = privileges
            texts = first.map(\.description)
            firstNames = first.map(Workload.names)
            secondNames = second.map(Workload.names)
            secondWithPrivilegeNames = zip(second, privileges).map { label, privilege in
                (Workload.names(label) + Workload.names(privilege.component)).sorted()
            }
        }

        static func above(_ a: Label, _ b: Label, _ sampler: LabelSampler, _ rng: inout SplitMix64) -> Label {
            let weaker = (a.integrity.clauses ?? []).map { clause in
                Clause(clause.principals + [sampler.principal(using: &rng)])!
            }
            return Label(
                secrecy: (try? a.secrecy.and(b.secrecy)) ?? a.secrecy,
                integrity: a.integrity.isFalse ? b.integrity : Component(clauses: weaker))
        }

        static func names(_ label: Label) -> [String] {
            (names(label.secrecy) + names(label.integrity)).sorted()
        }

        static func names(_ component: Component) -> [String] {
            (component.clauses ?? []).flatMap { $0.principals.map(\.description) }
        }
    }

    func measure(
        _ size: String, sampler: LabelSampler, pool: Int, batches: Int, batchSize: Int,
        into report: inout BenchmarkReport, targets: [String: Double]
    ) {
        let w = Workload(sampler: sampler, count: pool)
        let mask = pool - 1  // pool is a power of two
        precondition(pool & mask == 0)
        var sink = 0

        func record(_ metric: String, _ result: (subject: Distribution, baseline: Distribution), note: String) {
            for (quantile, value, base) in [("p50", result.subject.p50, result.baseline.p50), ("p99", result.subject.p99, result.baseline.p99)] {
                report.add(
                    "labels.\(metric).\(size).\(quantile)", unit: "ns", value, baseline: base,
                    target: targets["\(metric).\(quantile)"], note: note)
            }
        }

        record("canflow", Stopwatch.compare(
            batches: batches, batchSize: batchSize,
            subject: { start in
                for i in start..<(start + batchSize) where w.first[i & mask].canFlow(to: w.second[i & mask]) { sink &+= 1 }
            },
            baseline: { start in
                for i in start..<(start + batchSize) where isSortedSubset(w.firstNames[i & mask], w.secondNames[i & mask]) { sink &+= 1 }
            }), note: "subset test of sorted [String]")

        record("canflow_priv", Stopwatch.compare(
            batches: batches, batchSize: batchSize,
            subject: { start in
                for i in start..<(start + batchSize)
                where w.first[i & mask].canFlow(to: w.second[i & mask], with: w.privileges[i & mask]) { sink &+= 1 }
            },
            baseline: { start in
                for i in start..<(start + batchSize)
                where isSortedSubset(w.firstNames[i & mask], w.secondWithPrivilegeNames[i & mask]) { sink &+= 1 }
            }), note: "subset test of sorted [String]")

        record("lub", Stopwatch.compare(
            batches: batches, batchSize: batchSize,
            subject: { start in
                for i in start..<(start + batchSize) { blackHole(try? w.first[i & mask].lub(w.first[(i + 1) & mask])) }
            },
            baseline: { start in
                for i in start..<(start + batchSize) { blackHole(sortedUnion(w.firstNames[i & mask], w.firstNames[(i + 1) & mask])) }
            }), note: "merge of sorted [String]")

        record("parse", Stopwatch.compare(
            batches: batches, batchSize: batchSize,
            subject: { start in
                for i in start..<(start + batchSize) { blackHole(try? Label(parsing: w.texts[i & mask])) }
            },
            baseline: { start in
                for i in start..<(start + batchSize) { blackHole(splitAtSeparators(w.texts[i & mask])) }
            }), note: "split text into [String]")

        record("print", Stopwatch.compare(
            batches: batches, batchSize: batchSize,
            subject: { start in
                for i in start..<(start + batchSize) { blackHole(w.first[i & mask].description) }
            },
            baseline: { start in
                for i in start..<(start + batchSize) { blackHole(w.firstNames[i & mask].joined(separator: "&")) }
            }), note: "join [String]")
        blackHole(sink)
    }
}

/// Baseline: is every element of sorted `a` in sorted `b`?
func isSortedSubset(_ a: [String], _ b: [String]) -> Bool {
    var j = 0
    for element in a {
        while j < b.count && b[j] < element { j += 1 }
        if j == b.count || b[j] != element { return false }
        j += 1
    }
    return true
}

/// Baseline: the sorted union of two sorted arrays.
func sortedUnion(_ a: [String], _ b: [String]) -> [String] {
    var out: [String] = []
    out.reserveCapacity(a.count + b.count)
    var i = 0
    var j = 0
    while i < a.count && j < b.count {
        if a[i] < b[j] {
            out.append(a[i]); i += 1
        } else if b[j] < a[i] {
            out.append(b[j]); j += 1
        } else {
            out.append(a[i]); i += 1; j += 1
        }
    }
    out.append(contentsOf: a[i...])
    out.append(contentsOf: b[j...])
    return out
}

/// Baseline: the label text cut at `,` `&` `|` `/` into strings.
func splitAtSeparators(_ text: String) -> [String] {
    text.utf8.split(whereSeparator: { $0 == 44 || $0 == 38 || $0 == 124 || $0 == 47 })
        .map { String(decoding: $0, as: UTF8.self) }
}
