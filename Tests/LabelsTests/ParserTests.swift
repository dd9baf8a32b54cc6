import LabelSamples
import Labels
import PropertyBased
import Testing

@Suite("Text syntax")
struct ParserTests {
    @Test func printThenParseIsIdentityEvenForTokensThatNeedEscaping() async {
        await propertyCheck(count: 500, input: Generators.labels(.escaping)) { l in
            let text = l.description
            let parsed = try Label(parsing: text)
            #expect(parsed == l, "\(text)")
            #expect(parsed.description == text)
        }
    }

    @Test func printThenParseIsIdentityForTypicalAndLargeLabels() async {
        await propertyCheck(count: 200, input: Generators.labels(.typical), Generators.labels(.large)) { a, b throws in
            #expect(try Label(parsing: a.description) == a)
            #expect(try Label(parsing: b.description) == b)
        }
    }

    @Test func principalsRoundTripThroughText() async throws {
        let tokens = ["a,b", "x|y", "m&n", "s/t", "b\\s", "T", "F", "Tom", " ", "ü"]
        for first in tokens {
            for second in tokens {
                let p = try Principal([first, second])
                #expect(try Principal(parsing: p.description) == p)
                #expect(p.tokens == [first, second])
                let single = try Principal([first])
                #expect(try Component(parsing: Component(single).description) == Component(single))
            }
        }
    }

    @Test func constantsOnlyAsAWholeComponent() throws {
        #expect(try label("T,T") == .public)
        #expect(try label("F,T") == .top)
        #expect(try label("T,F") == .bottom)
        // Tom and Fred are principals, in either position.
        #expect(try label("Tom,Fred").secrecy.clauses?.first?.principals.first?.tokens == ["Tom"])
        #expect(try label("Tom,Fred").integrity.clauses?.first?.principals.first?.tokens == ["Fred"])
        // Inside a larger component T is an ordinary token.
        #expect(try label("T&alice,T").secrecy == Component([[principal("T")], [principal("alice")]]))
        #expect(try label("T|F,T").secrecy == Component([[principal("T"), principal("F")]]))
        // The component that is just the principal T is written escaped.
        let justT = Label(secrecy: Component(try principal("T")), integrity: Component(try principal("F")))
        #expect(justT.description == "\\T,\\F")
        #expect(try label("\\T,\\F") == justT)
        #expect(try label("\\Tom,T").secrecy == Component(try principal("Tom")))
    }

    @Test func privilegesAndComponentsParseAlone() throws {
        #expect(try privilege("T") == .none)
        #expect(try privilege("F") == .root)
        #expect(try privilege("alice&bob").component == component("bob&alice"))
        #expect(throws: LabelError.syntax(.trailingInput(","), position: 6)) { try Privilege(parsing: "alice,T") }
    }

    static let malformed: [(String, LabelError)] = [
        ("", .syntax(.emptyInput, position: 1)),
        (",T", .syntax(.emptyComponent, position: 1)),
        ("T,", .syntax(.emptyComponent, position: 3)),
        ("alice", .syntax(.missingComma, position: 6)),
        ("T", .syntax(.missingComma, position: 2)),
        ("a,b,c", .syntax(.trailingInput(","), position: 4)),
        ("T,T,", .syntax(.trailingInput(","), position: 4)),
        ("x,T&", .syntax(.emptyClause, position: 5)),
        ("a//b,T", .syntax(.emptyToken, position: 3)),
        ("a/,T", .syntax(.emptyToken, position: 3)),
        ("/a,T", .syntax(.emptyToken, position: 1)),
        ("a,b/", .syntax(.emptyToken, position: 5)),
        ("a||b,T", .syntax(.emptyPrincipal, position: 3)),
        ("a|,T", .syntax(.emptyPrincipal, position: 3)),
        ("|a,T", .syntax(.emptyPrincipal, position: 1)),
        ("a&&b,T", .syntax(.emptyClause, position: 3)),
        ("a&,T", .syntax(.emptyClause, position: 3)),
        ("&a,T", .syntax(.emptyClause, position: 1)),
        ("a\\", .syntax(.danglingEscape, position: 2)),
        ("a,b\\", .syntax(.danglingEscape, position: 4)),
        ("a\\x,T", .syntax(.invalidEscape("x"), position: 2)),
        ("a\\ü,T", .syntax(.invalidEscape("ü"), position: 2)),
        ("a\tb,T", .syntax(.controlCharacter(9), position: 2)),
        ("a,b\n", .syntax(.controlCharacter(10), position: 4)),
        ("a\u{7F},T", .syntax(.controlCharacter(0x7F), position: 2)),
        ("üñï//x,T", .syntax(.emptyToken, position: 5)),
    ]

    @Test(arguments: malformed)
    func malformedInputIsRefusedWithPositionAndReason(text: String, expected: LabelError) {
        #expect(throws: expected) { try Label(parsing: text) }
        do {
            _ = try Label(parsing: text)
        } catch {
            #expect("\(error)".contains("at position"))
        }
    }

    @Test func principalInitializerValidates() {
        #expect(throws: LabelError.self) { try Principal([String]()) }
        #expect(throws: LabelError.self) { try Principal(["alice", ""]) }
        #expect(throws: LabelError.self) { try Principal(["a\u{0}b"]) }
        #expect(throws: LabelError.syntax(.emptyPrincipal, position: 1)) { try Principal(parsing: "") }
        #expect(throws: LabelError.syntax(.trailingInput("|"), position: 2)) { try Principal(parsing: "a|b") }
    }

    @Test func limitsBoundUntrustedText() throws {
        let limits = LabelLimits.default
        let many = (0...limits.maxClauses).map { "p\($0)" }.joined(separator: "&")
        #expect(throws: LabelError.limitExceeded(.clauses, limit: 64)) { try Label(parsing: many + ",T") }
        let wide = (0...limits.maxPrincipalsPerClause).map { "p\($0)" }.joined(separator: "|")
        #expect(throws: LabelError.limitExceeded(.principalsPerClause, limit: 16)) { try Label(parsing: "T," + wide) }
        let deep = (0...limits.maxTokensPerPrincipal).map { "t\($0)" }.joined(separator: "/")
        #expect(throws: LabelError.limitExceeded(.tokensPerPrincipal, limit: 16)) { try Label(parsing: deep + ",T") }
        let long = String(repeating: "x", count: limits.maxTokenBytes + 1)
        #expect(throws: LabelError.limitExceeded(.tokenBytes, limit: 256)) { try Label(parsing: long + ",T") }
        let huge = String(repeating: "a|", count: 9000) + "a,T"
        #expect(throws: LabelError.limitExceeded(.textBytes, limit: 16_384)) { try Label(parsing: huge) }
        // At the limits themselves everything parses.
        let atLimit = (1...limits.maxClauses).map { "p\($0)" }.joined(separator: "&")
        #expect(try Label(parsing: atLimit + ",T").secrecy.clauses?.count == 64)
        #expect(try Label(parsing: String(repeating: "y", count: 256) + ",T").secrecy.clauses?.count == 1)
        // Custom limits apply.
        #expect(throws: LabelError.limitExceeded(.clauses, limit: 1)) {
            try Label(parsing: "a&b,T", limits: LabelLimits(maxClauses: 1))
        }
    }

    @Test func errorsReadWell() {
        #expect("\(LabelError.syntax(.emptyToken, position: 3))" == "at position 3: empty token: '/' must join two non-empty tokens")
        #expect("\(LabelError.limitExceeded(.clauses, limit: 64))" == "number of clauses in a component exceeds the limit of 64")
    }
}
