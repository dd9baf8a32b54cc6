import Foundation
import Processes

/// Which CPU a new sandbox and the thread serving it share.
///
/// A sandbox and its monitor thread answer each other dozens of times per invocation.
/// On different CPUs each answer wakes an idle CPU, which costs 30-60 µs on virtual
/// machines; on one CPU it is a context switch of a few µs (measured with
/// `faasten-bench invoke`: a no-op round trip of 157 µs falls to ~50 µs). Each sandbox
/// goes to the CPU with the fewest sandboxes, so they spread evenly; the price is that
/// the kernel cannot move a busy sandbox to an idle CPU.
final class CPUPlacement: @unchecked Sendable {
    private let lock = NSLock()
    private var sandboxes: [Int: Int]

    /// Over the CPUs this thread may use; `nil` when there is nothing to choose (one CPU,
    /// or placement turned off).
    init?(enabled: Bool) {
        let cpus = ThreadAffinity.current()
        guard enabled, cpus.count > 1 else { return nil }
        sandboxes = Dictionary(uniqueKeysWithValues: cpus.map { ($0, 0) })
    }

    /// The CPU for a new sandbox.
    func take() -> Int {
        lock.withLock {
            let cpu = sandboxes.min { $0.value < $1.value || ($0.value == $1.value && $0.key < $1.key) }!.key
            sandboxes[cpu, default: 0] += 1
            return cpu
        }
    }

    /// A sandbox on `cpu` is gone.
    func give(_ cpu: Int) {
        lock.withLock { sandboxes[cpu] = max(0, (sandboxes[cpu] ?? 1) - 1) }
    }
}
