/// The strict text syntax:
///
/// ```
/// label      := component "," component
/// component  := "T" | "F" | clause ("&" clause)*
/// clause     := principal ("|" principal)*
/// principal  := token ("/" token)*
/// token      := 1+ of (any character but , | & / \ and controls  |  "\" one of , | & / \ T F)
/// ```
///
/// `T` and `F` are constants only as a whole component, so `Tom,Fred` is two
/// principals and `T&alice` is the principal `T` and `alice`; a component that is the
/// single principal `T` is written `\T`. Trailing input, empty tokens, principals,
/// clauses and components, dangling or unknown escapes are errors with a position.
struct LabelParser: ~Copyable {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let limits: LabelLimits
    private var index = 0

    private static let comma = UInt8(ascii: ",")
    private static let bar = UInt8(ascii: "|")
    private static let ampersand = UInt8(ascii: "&")
    private static let slash = UInt8(ascii: "/")
    private static let backslash = UInt8(ascii: "\\")
    private static let letterT = UInt8(ascii: "T")
    private static let letterF = UInt8(ascii: "F")

    init(_ bytes: UnsafeBufferPointer<UInt8>, limits: LabelLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    /// Runs `body` on the UTF-8 bytes of `text` after the size check.
    static func withParser<T>(
        _ text: String, limits: LabelLimits, _ body: (inout LabelParser) throws(LabelError) -> T
    ) throws(LabelError) -> T {
        try limits.check(text.utf8.count, .textBytes)
        var text = text
        let result: Result<T, LabelError> = text.withUTF8 { buffer in
            var parser = LabelParser(buffer, limits: limits)
            return Result { () throws(LabelError) -> T in try body(&parser) }
        }
        return try result.get()
    }

    mutating func parseLabel() throws(LabelError) -> Label {
        if bytes.isEmpty { throw syntax(.emptyInput) }
        let secrecy = try parseComponent()
        guard index < bytes.count else { throw syntax(.missingComma) }
        index += 1  // parseComponent stops only at the end or at ','
        let integrity = try parseComponent()
        guard index == bytes.count else { throw syntax(.trailingInput(currentCharacter())) }
        return Label(secrecy: secrecy, integrity: integrity)
    }

    /// A whole input that is one component (a privilege, a secrecy target).
    mutating func parseStandaloneComponent() throws(LabelError) -> Component {
        let component = try parseComponent()
        guard index == bytes.count else { throw syntax(.trailingInput(currentCharacter())) }
        return component
    }

    /// A whole input that is one principal, e.g. `alice/photo`.
    mutating func parseStandalonePrincipal() throws(LabelError) -> Principal {
        if bytes.isEmpty { throw syntax(.emptyPrincipal) }
        let principal = try parsePrincipal(firstInClause: false)
        guard index == bytes.count else { throw syntax(.trailingInput(currentCharacter())) }
        return principal
    }

    /// Parses up to the next unescaped ',' or the end.
    private mutating func parseComponent() throws(LabelError) -> Component {
        guard index < bytes.count, bytes[index] != Self.comma else { throw syntax(.emptyComponent) }
        let first = bytes[index]
        if (first == Self.letterT || first == Self.letterF)
            && (index + 1 == bytes.count || bytes[index + 1] == Self.comma)
        {
            index += 1
            return first == Self.letterT ? .true : .false
        }
        var clauses: [Clause] = []
        while true {
            try limits.check(clauses.count + 1, .clauses)
            clauses.append(try parseClause())
            guard index < bytes.count, bytes[index] == Self.ampersand else { break }
            index += 1
        }
        return Component(clauses: clauses)
    }

    private mutating func parseClause() throws(LabelError) -> Clause {
        var principals: [Principal] = []
        principals.reserveCapacity(2)
        principals.append(try parsePrincipal(firstInClause: true))
        while index < bytes.count && bytes[index] == Self.bar {
            index += 1
            try limits.check(principals.count + 1, .principalsPerClause)
            principals.append(try parsePrincipal(firstInClause: false))
        }
        if principals.count == 1 { return Clause(principals[0]) }
        principals.sort()
        return Clause(sortedPrincipals: principals)
    }

    private mutating func parsePrincipal(firstInClause: Bool) throws(LabelError) -> Principal {
        var key: [UInt8] = []
        key.reserveCapacity(16)
        var tokens = 1
        if try !readToken(into: &key) {
            if index < bytes.count && bytes[index] == Self.slash { throw syntax(.emptyToken) }
            if firstInClause && (index == bytes.count || bytes[index] != Self.bar) {
                throw syntax(.emptyClause)
            }
            throw syntax(.emptyPrincipal)
        }
        while index < bytes.count && bytes[index] == Self.slash {
            index += 1
            tokens += 1
            try limits.check(tokens, .tokensPerPrincipal)
            key.append(Principal.separator)
            if try !readToken(into: &key) { throw syntax(.emptyToken) }
        }
        return Principal(key: key)
    }

    /// Appends one token's unescaped bytes; returns false if the token is empty.
    private mutating func readToken(into key: inout [UInt8]) throws(LabelError) -> Bool {
        let start = key.count
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case Self.comma, Self.bar, Self.ampersand, Self.slash:
                return try finishToken(key, start: start)
            case Self.backslash:
                guard index + 1 < bytes.count else { throw syntax(.danglingEscape) }
                let escaped = bytes[index + 1]
                switch escaped {
                case Self.comma, Self.bar, Self.ampersand, Self.slash, Self.backslash, Self.letterT, Self.letterF:
                    key.append(escaped)
                    index += 2
                default:
                    index += 1
                    let character = currentCharacter()
                    index -= 1
                    throw syntax(.invalidEscape(character))
                }
            default:
                if Principal.isControl(byte) { throw syntax(.controlCharacter(byte)) }
                key.append(byte)
                index += 1
            }
        }
        return try finishToken(key, start: start)
    }

    private func finishToken(_ key: [UInt8], start: Int) throws(LabelError) -> Bool {
        try limits.check(key.count - start, .tokenBytes)
        return key.count > start
    }

    /// The character starting at the current byte.
    private func currentCharacter() -> Character {
        var end = index + 1
        while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
        return Character(String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self))
    }

    /// An error at the current position, counted in Unicode scalars from 1.
    private func syntax(_ problem: LabelError.SyntaxProblem) -> LabelError {
        var scalars = 1
        for byte in bytes[..<index] where byte & 0xC0 != 0x80 { scalars += 1 }
        return .syntax(problem, position: scalars)
    }
}

extension Label {
    /// Parses `secrecy,integrity` text strictly; see ``LabelParser`` for the grammar.
    ///
    /// ```swift
    /// let label = try Label(parsing: "alice&bob,alice")
    /// ```
    public init(parsing text: String, limits: LabelLimits = .default) throws(LabelError) {
        self = try LabelParser.withParser(text, limits: limits) { (parser) throws(LabelError) in try parser.parseLabel() }
    }
}

extension Component {
    /// Parses one component: `T`, `F`, or clauses such as `alice&bob|carol`.
    public init(parsing text: String, limits: LabelLimits = .default) throws(LabelError) {
        self = try LabelParser.withParser(text, limits: limits) { (parser) throws(LabelError) in
            try parser.parseStandaloneComponent()
        }
    }
}

extension Privilege {
    /// Parses a privilege written as a component: `alice&bob`, `T` (none) or `F` (all).
    public init(parsing text: String, limits: LabelLimits = .default) throws(LabelError) {
        self.init(try Component(parsing: text, limits: limits))
    }
}

extension Principal {
    /// Parses one principal such as `alice/photo`, with the same escapes as labels.
    public init(parsing text: String, limits: LabelLimits = .default) throws(LabelError) {
        self = try LabelParser.withParser(text, limits: limits) { (parser) throws(LabelError) in
            try parser.parseStandalonePrincipal()
        }
    }
}
