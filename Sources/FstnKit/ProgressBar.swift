import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A one-line progress bar on stderr for long transfers, redrawn in place with `\r`.
///
/// ```swift
/// let bar = ProgressBar.forTransfer(of: size, label: "uploading")  // nil: not worth a bar
/// bar?.update(sent); bar?.finish()
/// ```
public final class ProgressBar: @unchecked Sendable {
    /// Transfers smaller than this finish too fast for a bar to help.
    public static let threshold: Int64 = 1 << 20
    /// At most this many redraws a second, so drawing never slows the transfer.
    static let redrawInterval = 0.1
    static let width = 30

    private let total: Int64?
    private let label: String
    private let lock = NSLock()
    private var lastDraw = 0.0
    private var current: Int64 = 0
    private var drawn = false

    init(total: Int64?, label: String) {
        self.total = total
        self.label = label
    }

    /// A bar when stderr is a terminal and the transfer is over ``threshold`` (or of
    /// unknown size); `nil` otherwise, so that scripts' stderr stays clean.
    public static func forTransfer(of size: Int64?, label: String) -> ProgressBar? {
        guard isatty(2) == 1 else { return nil }
        if let size, size <= threshold { return nil }
        return ProgressBar(total: size, label: label)
    }

    /// Records that `bytes` have been transferred in all, redrawing if it is time.
    public func update(_ bytes: Int64) {
        lock.withLock {
            current = bytes
            let now = Date().timeIntervalSince1970
            guard now - lastDraw >= Self.redrawInterval else { return }
            lastDraw = now
            draw()
        }
    }

    /// Draws the final state and ends the line.
    public func finish() {
        lock.withLock {
            guard drawn || current > 0 else { return }
            draw()
            write(2, "\n", 1)
        }
    }

    /// The text of the bar, e.g. `uploading [##########----] 45%  12.0/27.0 MiB`.
    static func render(label: String, current: Int64, total: Int64?) -> String {
        guard let total, total > 0 else { return "\(label) \(mebibytes(current)) MiB" }
        let fraction = min(1, Double(current) / Double(total))
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let percent = String(Int(fraction * 100)).leftPadded(to: 3)
        return "\(label) [\(bar)] \(percent)%  \(mebibytes(current))/\(mebibytes(total)) MiB"
    }

    private static func mebibytes(_ bytes: Int64) -> String {
        String(format: "%.1f", Double(bytes) / 1_048_576)
    }

    private func draw() {
        drawn = true
        // \r and clear-to-end-of-line: redraw over the previous bar.
        let line = "\r" + Self.render(label: label, current: current, total: total) + "\u{1B}[K"
        let bytes = Array(line.utf8)
        bytes.withUnsafeBytes { _ = write(2, $0.baseAddress!, $0.count) }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    /// The text padded with spaces to `width` characters (for table columns).
    func rightPadded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
