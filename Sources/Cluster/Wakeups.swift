import Foundation

/// Tasks waiting for a named event (an invocation's end, new work), woken by a
/// notification or by a time limit. An event that comes while nobody waits is kept
/// until the next wait, so none is lost between looking and waiting.
final class Wakeups: @unchecked Sendable {
    private struct Waiter {
        var pending = false
        var continuation: CheckedContinuation<Void, Never>?
        var generation = 0
    }

    private let lock = NSLock()
    private var waiters: [String: Waiter] = [:]

    /// Starts keeping events for `key`: call before whatever will cause the event.
    func expect(_ key: String) {
        lock.withLock { waiters[key] = waiters[key] ?? Waiter() }
    }

    /// Stops keeping events for `key` (and wakes a wait on it).
    func forget(_ key: String) {
        let continuation = lock.withLock { waiters.removeValue(forKey: key)?.continuation }
        continuation?.resume()
    }

    /// Wakes the wait on `key`, or keeps the event for the next one.
    func notify(_ key: String) {
        let continuation: CheckedContinuation<Void, Never>? = lock.withLock {
            guard var waiter = waiters[key] else { return nil }
            let continuation = waiter.continuation
            waiter.continuation = nil
            waiter.pending = continuation == nil
            waiters[key] = waiter
            return continuation
        }
        continuation?.resume()
    }

    /// Wakes every wait (whoever waits must look again: events may have been missed).
    func notifyAll() {
        let keys = lock.withLock { Array(waiters.keys) }
        for key in keys { notify(key) }
    }

    /// Returns at the next event for `key` (at once if one came since the last wait), or
    /// after `timeout`.
    func wait(_ key: String, timeout: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let generation: Int? = lock.withLock {
                guard var waiter = waiters[key], !waiter.pending else {
                    waiters[key]?.pending = false
                    return nil
                }
                waiter.generation += 1
                waiter.continuation = continuation
                waiters[key] = waiter
                return waiter.generation
            }
            guard let generation else {
                continuation.resume()
                return
            }
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(key, generation)
            }
        }
    }

    private func expire(_ key: String, _ generation: Int) {
        let continuation: CheckedContinuation<Void, Never>? = lock.withLock {
            guard var waiter = waiters[key], waiter.generation == generation, let continuation = waiter.continuation else { return nil }
            waiter.continuation = nil
            waiters[key] = waiter
            return continuation
        }
        continuation?.resume()
    }
}
