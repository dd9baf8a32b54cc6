import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// A fixed-size pool of connections, handed out to threads that may block.
///
/// Callers run on a thread pool, never on an event loop, so `.wait()` on the
/// connection's futures is allowed. A broken connection is dropped and a new one
/// made on the next checkout.
final class PostgresConnectionPool: @unchecked Sendable {
    private let location: PostgresLocation
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let capacity: Int
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var closed = false
    private var nextID = 0

    init(location: PostgresLocation, capacity: Int, eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.location = location
        self.capacity = capacity
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// Runs `body` with a connection, waiting for one if all are busy.
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try checkOut()
        do {
            let result = try body(connection)
            checkIn(connection)
            return result
        } catch {
            checkIn(connection)
            throw error
        }
    }

    private func checkOut() throws -> PostgresConnection {
        condition.lock()
        while true {
            if closed {
                condition.unlock()
                throw StoreError("the PostgreSQL store is closed")
            }
            if let connection = idle.popLast() {
                condition.unlock()
                if connection.isClosed {
                    release(slot: ())
                    return try checkOut()
                }
                return connection
            }
            if open < capacity {
                open += 1
                nextID += 1
                let id = nextID
                condition.unlock()
                do {
                    return try PostgresConnection.connect(
                        on: eventLoopGroup.next(), configuration: location.configuration(), id: id, logger: logger
                    ).wait()
                } catch {
                    release(slot: ())
                    throw StoreError("cannot connect to \(location): \(String(reflecting: error))")
                }
            }
            condition.wait()
        }
    }

    private func checkIn(_ connection: PostgresConnection) {
        if connection.isClosed {
            release(slot: ())
            return
        }
        condition.lock()
        if closed {
            condition.unlock()
            try? connection.close().wait()
            return
        }
        idle.append(connection)
        condition.signal()
        condition.unlock()
    }

    private func release(slot: Void) {
        condition.lock()
        open -= 1
        condition.signal()
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        let connections = idle
        idle = []
        condition.broadcast()
        condition.unlock()
        for connection in connections { try? connection.close().wait() }
    }
}
