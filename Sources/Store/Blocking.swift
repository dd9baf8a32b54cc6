import NIOPosix

/// Runs blocking work (a synchronous store call, a blob read) from async code without
/// holding a cooperative thread: on NIO's shared thread pool.
public enum Blocking {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}
