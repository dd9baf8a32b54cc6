import Foundation
import Keys

/// Key events (audit reports of the key ring) collected from any thread, for tests.
public final class KeyEvents: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [KeyEvent] = []

    public init() {}

    /// The sink to give ``KeyRing/open(store:master:onEvent:beforeFirstKey:)``.
    public var add: @Sendable (KeyEvent) -> Void { { event in self.lock.withLock { self.events.append(event) } } }
    public var all: [KeyEvent] { lock.withLock { events } }
}
