import Foundation

/// Runs an action when a deadline passes unless it is cancelled first: how an invocation
/// is cut off while its monitor is stuck in a call. One thread checks every watched
/// deadline every ``period``, so watching costs a lock and a dictionary entry, not a
/// task and a timer per invocation (which cost ~20 µs of every warm invocation).
final class DeadlineWatchdog: @unchecked Sendable {
    static let shared = DeadlineWatchdog()
    /// How often deadlines are checked: an expired one fires at most this late.
    static let period: Duration = .milliseconds(20)

    private let lock = NSLock()
    private var watched: [UInt64: (deadline: ContinuousClock.Instant, action: @Sendable () -> Void)] = [:]
    private var next: UInt64 = 0
    private var running = false

    /// Calls `action` (on the watchdog's thread) once `deadline` has passed, unless
    /// ``cancel(_:)`` comes first. Returns the token to cancel with.
    func watch(until deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) -> UInt64 {
        lock.withLock {
            next += 1
            watched[next] = (deadline, action)
            if !running {
                running = true
                let thread = Thread { [self] in loop() }
                thread.name = "faasten-deadlines"
                thread.start()
            }
            return next
        }
    }

    func cancel(_ token: UInt64) {
        _ = lock.withLock { watched.removeValue(forKey: token) }
    }

    private func loop() {
        while true {
            Thread.sleep(forTimeInterval: Double(Self.period.components.attoseconds) / 1e18)
            let now = ContinuousClock.now
            let expired = lock.withLock { () -> [@Sendable () -> Void] in
                let due = watched.filter { $0.value.deadline <= now }
                for token in due.keys { watched[token] = nil }
                return due.values.map(\.action)
            }
            for action in expired { action() }
        }
    }
}

/// Work that must end by a deadline whatever it is waiting on.
enum Deadline {
    /// The result of `body`, or `timedOut` thrown once `deadline` has passed (within the
    /// watchdog's period); `body` is then cancelled and left to end on its own.
    static func race<T: Sendable>(
        until deadline: ContinuousClock.Instant, timedOut: any Error, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let first = FirstResult<T>()
        return try await withCheckedThrowingContinuation { continuation in
            first.set(continuation)
            let work = Task {
                let result: Result<T, any Error>
                do {
                    result = .success(try await body())
                } catch {
                    result = .failure(error)
                }
                first.finish(result)
            }
            let token = DeadlineWatchdog.shared.watch(until: deadline) {
                work.cancel()
                first.finish(.failure(timedOut))
            }
            first.onFinish { DeadlineWatchdog.shared.cancel(token) }
        }
    }
}

/// The first of several results resumes the waiter; the others are dropped (and never
/// computed, if given as a closure).
final class FirstResult<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var done = false
    private var cleanup: (() -> Void)?

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        lock.withLock { self.continuation = continuation }
    }

    /// Runs `action` when a result arrives (at once if one has).
    func onFinish(_ action: @escaping () -> Void) {
        let now = lock.withLock { () -> Bool in
            if done { return true }
            cleanup = action
            return false
        }
        if now { action() }
    }

    func finish(_ result: Result<T, any Error>) {
        finish { result }
    }

    /// Computes the result only if it is the first.
    func finish(_ result: () -> Result<T, any Error>) {
        let (first, waiter, action) = lock.withLock { () -> (Bool, CheckedContinuation<T, any Error>?, (() -> Void)?) in
            if done { return (false, nil, nil) }
            done = true
            defer {
                continuation = nil
                cleanup = nil
            }
            return (true, continuation, cleanup)
        }
        guard first else { return }
        action?()
        waiter?.resume(with: result())
    }
}
