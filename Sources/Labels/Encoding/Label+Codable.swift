// JSON form. Values encode as their canonical text ("alice&bob,alice"), which is what
// people read in API responses and configuration. Decoding also accepts the original
// Faasten's structured form, so stored values and tokens from it keep working:
//
//   {"secrecy": "DCFalse" | {"DCFormula": [[["alice","photo"],["bob"]], ...]}, "integrity": ...}
//
// Decoded values are untrusted input: they go through the same checks and limits as
// parsed text (the limits can be set with `CodingUserInfoKey.labelLimits`).

extension CodingUserInfoKey {
    /// Set to a ``LabelLimits`` value to override the limits used when decoding labels.
    public static let labelLimits = CodingUserInfoKey(rawValue: "faasten.labelLimits")!
}

extension Decoder {
    var labelLimits: LabelLimits { userInfo[.labelLimits] as? LabelLimits ?? .default }
}

extension Label: Codable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let limits = decoder.labelLimits
        if let container = try? decoder.singleValueContainer(), let text = try? container.decode(String.self) {
            self = try Self.decodingError(decoder) { () throws(LabelError) in try Label(parsing: text, limits: limits) }
            return
        }
        let container = try decoder.container(keyedBy: StructuredKeys.self)
        let secrecy = try container.decode(StructuredComponent.self, forKey: .secrecy)
        let integrity = try container.decode(StructuredComponent.self, forKey: .integrity)
        self.init(secrecy: secrecy.component, integrity: integrity.component)
    }

    private enum StructuredKeys: String, CodingKey { case secrecy, integrity }

    static func decodingError<T>(_ decoder: any Decoder, _ body: () throws(LabelError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "invalid label: \(error)", underlyingError: error))
        }
    }
}

extension Component: Codable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let limits = decoder.labelLimits
        if let container = try? decoder.singleValueContainer(), let text = try? container.decode(String.self) {
            self = try Label.decodingError(decoder) { () throws(LabelError) in try Component(parsing: text, limits: limits) }
            return
        }
        self = try StructuredComponent(from: decoder).component
    }
}

extension Privilege: Codable {
    public func encode(to encoder: any Encoder) throws {
        try component.encode(to: encoder)
    }

    public init(from decoder: any Decoder) throws {
        self.init(try Component(from: decoder))
    }
}

extension Principal: Codable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Accepts the text form (`"alice/photo"`) or a token array (`["alice","photo"]`).
    public init(from decoder: any Decoder) throws {
        let limits = decoder.labelLimits
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = try Label.decodingError(decoder) { () throws(LabelError) in try Principal(parsing: text, limits: limits) }
        } else {
            let tokens = try container.decode([String].self)
            self = try Label.decodingError(decoder) { () throws(LabelError) in try Principal(untrusted: tokens, limits: limits) }
        }
    }
}

/// The original's serde form of a component: `"DCFalse"` or `{"DCFormula": [clause]}`,
/// a clause being an array of principals and a principal an array of tokens.
private struct StructuredComponent: Decodable {
    let component: Component

    private enum Keys: String, CodingKey { case formula = "DCFormula" }

    init(from decoder: any Decoder) throws {
        let limits = decoder.labelLimits
        if let container = try? decoder.singleValueContainer(), let tag = try? container.decode(String.self) {
            guard tag == "DCFalse" else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "expected \"DCFalse\" or {\"DCFormula\": …}"))
            }
            component = .false
            return
        }
        let container = try decoder.container(keyedBy: Keys.self)
        let clauses = try container.decode([[[String]]].self, forKey: .formula)
        component = try Label.decodingError(decoder) { () throws(LabelError) in
            try Component(untrusted: clauses, limits: limits)
        }
    }
}

extension Component {
    /// Builds from token lists that came from outside (JSON, protobuf), checking every
    /// structural rule and limit that the text parser checks.
    init(untrusted clauses: [[[String]]], limits: LabelLimits) throws(LabelError) {
        try limits.check(clauses.count, .clauses)
        var principals: [[Principal]] = []
        principals.reserveCapacity(clauses.count)
        for clause in clauses {
            try limits.check(clause.count, .principalsPerClause)
            var built: [Principal] = []
            built.reserveCapacity(clause.count)
            for tokens in clause { built.append(try Principal(untrusted: tokens, limits: limits)) }
            principals.append(built)
        }
        self.init(principals)
    }
}

extension Principal {
    /// Builds from a token list that came from outside, checking limits.
    init(untrusted tokens: [String], limits: LabelLimits) throws(LabelError) {
        try limits.check(tokens.count, .tokensPerPrincipal)
        for token in tokens { try limits.check(token.utf8.count, .tokenBytes) }
        try self.init(tokens)
    }
}
