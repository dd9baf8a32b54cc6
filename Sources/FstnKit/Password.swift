import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where a password comes from: `--password-stdin`, `$FSTN_PASSWORD`, or a prompt on the
/// terminal with echo off (never a command-line argument, which `ps` shows to everyone).
public enum Password {
    /// The password, from the first source that applies. `confirm` asks twice at a prompt.
    public static func read(fromStandardInput: Bool, environment: [String: String], confirm: Bool) throws(FstnError) -> String {
        if fromStandardInput {
            return firstLine(of: FileHandle.standardInput.readDataToEndOfFile())
        }
        if let password = environment["FSTN_PASSWORD"], !password.isEmpty { return password }
        let first = try prompt("Password: ")
        if confirm, try prompt("Password (again): ") != first {
            throw FstnError("the passwords do not match", next: "run the command again")
        }
        return first
    }

    /// Input up to its first line break (`echo secret | fstn login alice` sends a newline).
    public static func firstLine(of data: Data) -> String {
        let text = String(decoding: data, as: UTF8.self)
        guard let end = text.firstIndex(where: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) else { return text }
        return String(text[..<end])
    }

    /// Checks the length the gateway requires (8 to 1024 bytes), before anything is sent.
    public static func validate(_ password: String) throws(FstnError) {
        guard (8...1024).contains(password.utf8.count) else {
            throw FstnError("a password has 8 to 1024 bytes; this one has \(password.utf8.count)", next: "choose another password")
        }
    }

    /// Reads a line from the terminal without echoing it.
    static func prompt(_ text: String) throws(FstnError) -> String {
        let terminal = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard terminal >= 0 else {
            throw FstnError(
                "no terminal to ask for the password", next: "give it with --password-stdin or the FSTN_PASSWORD environment variable")
        }
        defer { close(terminal) }
        _ = text.withCString { write(terminal, $0, strlen($0)) }
        var saved = termios()
        let canHide = tcgetattr(terminal, &saved) == 0
        if canHide {
            var hidden = saved
            hidden.c_lflag &= ~tcflag_t(ECHO)
            hidden.c_lflag |= tcflag_t(ECHONL)
            tcsetattr(terminal, TCSAFLUSH, &hidden)
        }
        defer { if canHide { tcsetattr(terminal, TCSAFLUSH, &saved) } }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = Glibc.read(terminal, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { break }
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }
}
