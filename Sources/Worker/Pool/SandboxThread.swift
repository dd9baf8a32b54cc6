import Foundation
import Processes

/// A long-lived thread that runs one blocking job at a time: where a sandbox's monitor
/// serves its invocations. A wake-up costs a few microseconds; a new thread per
/// invocation would cost tens.
final class SandboxThread: @unchecked Sendable {
    private let lock = NSLock()
    private let ready = DispatchSemaphore(value: 0)
    private var job: (() -> Void)?
    private var stopped = false

    /// A thread named `name`, on `cpu` if given.
    init(name: String, cpu: Int?) {
        let thread = Thread { [self] in
            if let cpu { ThreadAffinity.set([cpu]) }
            loop()
        }
        thread.name = name
        thread.start()
    }

    private func loop() {
        while true {
            ready.wait()
            let (job, stop) = lock.withLock { () -> ((() -> Void)?, Bool) in
                defer { self.job = nil }
                return (self.job, stopped)
            }
            job?()
            if stop { return }
        }
    }

    /// Runs `body` on the thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            lock.withLock { job = { continuation.resume(returning: body()) } }
            ready.signal()
        }
    }

    /// Ends the thread after its current job.
    func stop() {
        lock.withLock { stopped = true }
        ready.signal()
    }
}
