/// A cluster's timings and limits, with their defaults.
public struct ClusterConfiguration: Sendable {
    /// Seconds a worker's claim on an invocation lasts without a heartbeat. A worker
    /// that dies is noticed this long after its last heartbeat, and its invocations run
    /// again elsewhere.
    public var leaseSeconds: Double = 15
    /// Seconds between heartbeats (which renew the leases): a third of the lease, so
    /// that two can be missed.
    public var heartbeatSeconds: Double { leaseSeconds / 3 }
    /// Times an invocation may be claimed: a worker lost during each of them fails it.
    public var maxAttempts = 3
    /// Invocations a worker runs at once.
    public var slots = 16
    /// Seconds an invocation waits for the worker that has a warm sandbox for it before
    /// any worker may take it.
    public var preferenceWindow: Double = 0.05
    /// Seconds a worker checks the queue without a notification (for leases that ran out
    /// and preference windows that closed).
    public var pollSeconds: Double = 1
    /// Seconds a synchronous caller waits beyond the function's own time limit (for a
    /// worker to claim it) before it is answered "still running" with the id.
    public var queueWaitSeconds: Double = 60
    /// Seconds a synchronous caller waits for a notification before it reads the record
    /// anyway (a safety net; notifications lost with a connection are covered at once).
    public var recheckSeconds: Double = 5
    /// Seconds a worker waits at shutdown for its running invocations; the others are
    /// given back to the queue.
    public var shutdownGraceSeconds: Double = 60

    public init() {}
}
