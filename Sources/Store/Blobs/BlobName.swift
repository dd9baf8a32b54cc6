/// The name of an immutable blob: the lowercase hex SHA-256 of its bytes.
public struct BlobName: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    /// 64 lowercase hex characters.
    public let hex: String

    /// Validates a name: exactly 64 lowercase hex digits, nothing else.
    public init?(hex: String) {
        guard hex.utf8.count == 64,
            hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { return nil }
        self.hex = hex
    }

    /// The name of these digest bytes.
    public init(digest: some Sequence<UInt8>) {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        hex = String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    public static func < (lhs: BlobName, rhs: BlobName) -> Bool { lhs.hex < rhs.hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let name = BlobName(hex: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a blob name (64 lowercase hex digits)"))
        }
        self = name
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
