import FstnKit
import JSONValues

/// Where a command's results go: data on stdout, notes and errors on stderr, so that
/// `fstn cat F > copy` copies exactly the bytes.
struct Output {
    /// Whether the user asked for JSON (`--json`).
    let json: Bool

    /// A line of readable output on stdout.
    func line(_ text: String) {
        Self.write(1, text + "\n")
    }

    /// Raw bytes on stdout; an error if stdout is gone (a closed pipe, a full disk).
    func bytes(_ bytes: [UInt8]) throws(FstnError) {
        try ByteSink.standardOutput().write(bytes)
    }

    /// A JSON value on stdout, one line.
    func print(_ value: JSONValue) {
        line(value.text)
    }

    /// The server's JSON body as it came (one line, sorted keys), or readable text.
    func result(_ value: JSONValue, readable: () -> String?) {
        if json {
            print(value)
        } else if let text = readable(), !text.isEmpty {
            line(text)
        }
    }

    /// A note for the person (labels, progress, ids), on stderr.
    func note(_ text: String) {
        Self.standardError(text)
    }

    /// Warnings (`warning: …` and what to do instead), on stderr, with `--json` too: they
    /// are not the result, and a script's user should see them all the same.
    func warn(_ lines: [String]) {
        for line in lines { Self.standardError(line) }
    }

    /// An error: the JSON object on stdout under --json, and always the lines on stderr.
    func report(_ error: FstnError) {
        if json { print(error.json) }
        for line in error.lines { Self.standardError(line) }
    }

    static func standardError(_ text: String) {
        write(2, text + "\n")
    }

    private static func write(_ descriptor: Int32, _ text: String) {
        // Readable text: a reader that went away loses nothing it asked to keep.
        try? (descriptor == 1 ? ByteSink.standardOutput() : ByteSink.standardError()).write(Array(text.utf8))
    }
}
