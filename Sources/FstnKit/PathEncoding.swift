/// How FS paths and other identifiers travel in a URL: as ONE path segment.
///
/// Every byte of the UTF-8 text is percent-encoded except the RFC 3986 unreserved
/// characters (ALPHA, DIGIT, `-`, `.`, `_`, `~`), so `:`, `<`, `,`, `/` and `%` never
/// reach the router as structure.
///
/// ```swift
/// PathEncoding.segment("home:<alice,alice>:photos")  // "home%3A%3Calice%2Calice%3E%3Aphotos"
/// PathEncoding.segment("~:docs")                     // "~%3Adocs"
/// ```
public enum PathEncoding {
    /// The percent-encoded form of `text` as one URL path segment (or query value).
    public static func segment(_ text: String) -> String {
        var encoded = ""
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + hexDigits[Int(byte >> 4)] + hexDigits[Int(byte & 0x0F)]
            }
        }
        return encoded
    }

    private static let hexDigits = "0123456789ABCDEF".map { String($0) }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
