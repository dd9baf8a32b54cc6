import Foundation
import Processes

/// A long-lived thread that runs one blocking job at a time: where a sandbox's monitor
/// serves its invocations. A wake-up costs a few microseconds; a new thread per
/// invocation would cost tens.
final class SandboxThread: @unchecked Sendable {
    private let lock = NSLock()
    private let ready = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
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
            if stop {
                exited.signal()
                return
            }
        }
    }

    /// Starts `job` on the thread (which must be idle) and returns at once.
    func submit(_ job: @escaping @Sendable () -> Void) {
        lock.withLock { self.job = job }
        ready.signal()
    }

    /// Ends the thread after its current job, and waits for that.
    func stopAndWait() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        ready.signal()
        exited.wait()
    }
}
