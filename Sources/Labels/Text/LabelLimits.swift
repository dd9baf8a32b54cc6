/// Size limits applied to labels from untrusted input (text, JSON, protobuf).
///
/// The defaults admit every label a real policy needs while bounding the work a
/// hostile one can cause: lub of two components multiplies their clause counts.
/// Results of lattice operations are not limited.
public struct LabelLimits: Sendable, Hashable {
    /// Bytes of label text.
    public var maxTextBytes: Int
    /// Clauses in one component.
    public var maxClauses: Int
    /// Principals in one clause.
    public var maxPrincipalsPerClause: Int
    /// Tokens in one principal.
    public var maxTokensPerPrincipal: Int
    /// UTF-8 bytes in one token.
    public var maxTokenBytes: Int

    public init(
        maxTextBytes: Int = 16_384, maxClauses: Int = 64, maxPrincipalsPerClause: Int = 16,
        maxTokensPerPrincipal: Int = 16, maxTokenBytes: Int = 256
    ) {
        self.maxTextBytes = maxTextBytes
        self.maxClauses = maxClauses
        self.maxPrincipalsPerClause = maxPrincipalsPerClause
        self.maxTokensPerPrincipal = maxTokensPerPrincipal
        self.maxTokenBytes = maxTokenBytes
    }

    /// 16 KiB of text, 64 clauses, 16 principals per clause, 16 tokens per principal, 256-byte tokens.
    public static let `default` = LabelLimits()

    /// What a limit measures.
    public enum Measure: String, Hashable, Sendable {
        case textBytes, clauses, principalsPerClause, tokensPerPrincipal, tokenBytes

        var reason: String {
            switch self {
            case .textBytes: return "label text length in bytes"
            case .clauses: return "number of clauses in a component"
            case .principalsPerClause: return "number of principals in a clause"
            case .tokensPerPrincipal: return "number of tokens in a principal"
            case .tokenBytes: return "token length in bytes"
            }
        }
    }

    func check(_ value: Int, _ measure: Measure) throws(LabelError) {
        let limit: Int
        switch measure {
        case .textBytes: limit = maxTextBytes
        case .clauses: limit = maxClauses
        case .principalsPerClause: limit = maxPrincipalsPerClause
        case .tokensPerPrincipal: limit = maxTokensPerPrincipal
        case .tokenBytes: limit = maxTokenBytes
        }
        if value > limit { throw .limitExceeded(measure, limit: limit) }
    }
}
