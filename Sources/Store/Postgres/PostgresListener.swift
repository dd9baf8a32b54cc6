import Logging
import NIOCore
import PostgresNIO

/// A LISTEN on its own connection, re-established after a failure, until cancelled.
public final class PostgresListener: Sendable {
    private let task: Task<Void, Never>

    init(
        location: PostgresLocation, eventLoops: any EventLoopGroup, logger: Logger, channel: String,
        listening: @escaping @Sendable () -> Void, handler: @escaping @Sendable (String) -> Void
    ) {
        task = Task {
            var connectionID = 0
            var backoff = Duration.milliseconds(100)
            while !Task.isCancelled {
                connectionID += 1
                do {
                    let connection = try await PostgresConnection.connect(
                        on: eventLoops.next(), configuration: try location.configuration(), id: connectionID, logger: logger)
                    do {
                        try await connection.listen(on: channel) { notifications in
                            backoff = .milliseconds(100)
                            listening()
                            for try await notification in notifications {
                                handler(notification.payload)
                            }
                        }
                    } catch {
                        if !Task.isCancelled { logger.warning("LISTEN \(channel) failed, reconnecting: \(String(reflecting: error))") }
                    }
                    try? await connection.close()
                } catch {
                    logger.warning("cannot connect to listen on \(channel): \(String(reflecting: error))")
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// Stops listening and closes the connection.
    public func cancel() {
        task.cancel()
    }

    /// Stops listening and waits until the connection is closed.
    func stop() async {
        task.cancel()
        await task.value
    }
}
