import Foundation

/// Counts attempts per key in fixed windows: at most `limit` per `window`. Used for
/// logins, per account name and per client address.
actor RateLimiter {
    let limit: Int
    let window: Double
    private var windows: [String: (start: Double, count: Int)] = [:]

    init(limit: Int, window: Duration) {
        self.limit = limit
        self.window = Double(window.components.seconds) + Double(window.components.attoseconds) / 1e18
    }

    /// Counts an attempt for `key`; `nil` if allowed, else the seconds until it would be.
    func attempt(_ key: String, now: Double = Date().timeIntervalSince1970) -> Int? {
        if windows.count > 100_000 { windows = windows.filter { now - $0.value.start < window } }
        var current = windows[key] ?? (now, 0)
        if now - current.start >= window { current = (now, 0) }
        guard current.count < limit else { return max(1, Int((current.start + window - now).rounded(.up))) }
        current.count += 1
        windows[key] = current
        return nil
    }

    /// Forgets `key` (after a successful login).
    func reset(_ key: String) {
        windows[key] = nil
    }
}
