import Foundation
import Labels

/// Checks of command-line arguments made before any request, so that a typo is reported
/// with the option's name instead of as the server's `bad_request`.
public enum Arguments {
    /// An account name as the gateway accepts it: 1 to 64 of `a-z 0-9 - _ .`, starting
    /// with a letter or digit.
    public static func validateAccountName(_ name: String) throws(FstnError) {
        let bytes = Array(name.utf8)
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard (1...64).contains(bytes.count), isAlphanumeric(bytes[0]),
            bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") })
        else {
            throw FstnError(
                "invalid account name '\(name)'",
                next: "a name has 1 to 64 of a-z 0-9 - _ . and starts with a letter or digit")
        }
    }

    /// A label such as `alice,alice` (secrecy,integrity), in its canonical form.
    public static func label(_ option: String, _ text: String) throws(FstnError) -> String {
        do {
            return try Label(parsing: text).description
        } catch {
            throw FstnError("\(option): invalid label '\(text)': \(error)", next: "a label is SECRECY,INTEGRITY, e.g. alice,alice or T,T")
        }
    }

    /// A component such as `alice`, `alice&bob` or `T` (privileges, clearances), canonical.
    public static func component(_ option: String, _ text: String) throws(FstnError) -> String {
        do {
            return try Component(parsing: text).description
        } catch {
            throw FstnError("\(option): invalid component '\(text)': \(error)", next: "write e.g. alice, alice&bob, alice/photos or T")
        }
    }

    /// `--header NAME:VALUE` as a name and a value (the value without surrounding spaces).
    public static func header(_ text: String) throws(FstnError) -> (name: String, value: String) {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
            throw FstnError("--header takes NAME:VALUE, not '\(text)'", next: "e.g. --header 'content-type: text/plain'")
        }
        let name = String(text[..<colon]).trimmingCharacters(in: .whitespaces)
        // RFC 9110 token characters: anything else would be rejected or split by a proxy.
        let token = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        guard !name.isEmpty, name.allSatisfy({ token.contains($0) }) else {
            throw FstnError("--header: '\(name)' is not a header name", next: "a header name is letters, digits and - (e.g. x-request-id)")
        }
        let value = String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        guard !value.contains(where: { $0 == "\r" || $0 == "\n" }) else {
            throw FstnError("--header \(name): a value cannot contain a line break", next: "give the value on one line")
        }
        return (name, value)
    }

    /// A positive whole number option (`--memory`, `--timeout-ms`, …).
    public static func positive(_ option: String, _ value: Int) throws(FstnError) -> Int {
        guard value > 0 else { throw FstnError("\(option) must be positive, not \(value)", next: "give a whole number above 0") }
        return value
    }
}
