import Foundation
import LabelSamples
import Labels
import PropertyBased
import SwiftProtobuf
import Testing

@Suite("JSON and protobuf forms")
struct EncodingTests {
    @Test func jsonIsTheCanonicalText() throws {
        let l = try label("bob&alice,alice/photo")
        let data = try JSONEncoder().encode(["label": l])
        #expect(String(decoding: data, as: UTF8.self) == #"{"label":"alice&bob,alice\/photo"}"#)
        #expect(try JSONDecoder().decode([String: Label].self, from: data)["label"] == l)
        #expect(String(decoding: try JSONEncoder().encode(try privilege("alice&bob")), as: UTF8.self) == #""alice&bob""#)
    }

    @Test func jsonRoundTripsRandomLabels() async {
        await propertyCheck(count: 200, input: Generators.labels(.escaping), Generators.privileges(.escaping)) { l, p throws in
            #expect(try JSONDecoder().decode(Label.self, from: JSONEncoder().encode(l)) == l)
            #expect(try JSONDecoder().decode(Privilege.self, from: JSONEncoder().encode(p)) == p)
            for principal in l.secrecy.clauses?.flatMap(\.principals) ?? [] {
                #expect(try JSONDecoder().decode(Principal.self, from: JSONEncoder().encode(principal)) == principal)
            }
        }
    }

    @Test func jsonAcceptsTheOriginalStructuredForm() throws {
        let json = #"""
            {"secrecy": {"DCFormula": [[["alice","photo"],["alice"]], [["bob"]]]},
             "integrity": "DCFalse"}
            """#
        let l = try JSONDecoder().decode(Label.self, from: Data(json.utf8))
        #expect(l == (try label("alice/photo&bob,F")))
        let empty = #"{"secrecy": {"DCFormula": []}, "integrity": {"DCFormula": [[]]}}"#
        #expect(try JSONDecoder().decode(Label.self, from: Data(empty.utf8)) == .bottom)
        #expect(try JSONDecoder().decode(Principal.self, from: Data(#"["a","b/c"]"#.utf8)).tokens == ["a", "b/c"])
    }

    @Test(arguments: [
        #""alice""#, #""a,b,c""#, #"{"secrecy": "DCTrue", "integrity": "DCFalse"}"#,
        #"{"secrecy": {"DCFormula": [[[]]]}, "integrity": "DCFalse"}"#,
        #"{"secrecy": {"DCFormula": [[["a",""]]]}, "integrity": "DCFalse"}"#,
        #"{"secrecy": {"DCFormula": [[["a\tb"]]]}, "integrity": "DCFalse"}"#,
        #"{"secrecy": "DCFalse"}"#, "42", "null",
    ])
    func jsonRefusesBadLabels(json: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Label.self, from: Data(json.utf8)) }
    }

    @Test func jsonDecodingAppliesLimits() throws {
        let clauses = (0..<65).map { "[[\"p\($0)\"]]" }.joined(separator: ",")
        let json = "{\"secrecy\": {\"DCFormula\": [\(clauses)]}, \"integrity\": \"DCFalse\"}"
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Label.self, from: Data(json.utf8)) }
        let decoder = JSONDecoder()
        decoder.userInfo[.labelLimits] = LabelLimits(maxClauses: 100)
        #expect(try decoder.decode(Label.self, from: Data(json.utf8)).secrecy.clauses?.count == 65)
    }

    @Test func protobufRoundTripsRandomLabels() async {
        await propertyCheck(count: 300, input: Generators.labels(.escaping)) { l in
            let bytes: [UInt8] = try l.protobuf.serializedBytes()
            #expect(try Label(serializedProtobuf: bytes) == l)
        }
    }

    @Test func protobufValuesAreReducedSoEqualLabelsCompareEqual() throws {
        // alice ∧ (alice ∨ bob) ∧ alice, unreduced on the wire, is alice.
        func wirePrincipal(_ tokens: [String]) -> Faasten_TokenList {
            var t = Faasten_TokenList()
            t.tokens = tokens
            return t
        }
        func wireClause(_ principals: [[String]]) -> Faasten_Clause {
            var c = Faasten_Clause()
            c.principals = principals.map(wirePrincipal)
            return c
        }
        var formula = Faasten_ClauseList()
        formula.clauses = [wireClause([["alice"]]), wireClause([["bob"], ["alice"]]), wireClause([["alice"]])]
        var secrecy = Faasten_Component()
        secrecy.formula = formula
        var message = Faasten_Buckle()
        message.secrecy = secrecy
        message.integrity = Label.public.integrity.protobuf
        #expect(try Label(protobuf: message) == label("alice,T"))
    }

    @Test func protobufRefusesMissingAndEmptyParts() throws {
        var message = Label.public.protobuf
        message.clearIntegrity()
        #expect(throws: LabelError.invalid("label has no integrity component")) { try Label(protobuf: message) }
        message = Label.public.protobuf
        message.clearSecrecy()
        #expect(throws: LabelError.invalid("label has no secrecy component")) { try Label(protobuf: message) }
        message = Label.public.protobuf
        message.secrecy = Faasten_Component()  // neither DCFalse nor a formula
        #expect(throws: LabelError.invalid("component has neither DCFalse nor a formula")) { try Label(protobuf: message) }

        var emptyPrincipal = Faasten_Clause()
        emptyPrincipal.principals = [Faasten_TokenList()]
        var list = Faasten_ClauseList()
        list.clauses = [emptyPrincipal]
        message = Label.public.protobuf
        message.secrecy.formula = list
        #expect(throws: LabelError.self) { try Label(protobuf: message) }

        #expect(throws: LabelError.self) { try Label(serializedProtobuf: [0xFF, 0xFF, 0xFF]) }
    }

    @Test func protobufEmptyClauseIsFalse() throws {
        var list = Faasten_ClauseList()
        list.clauses = [Faasten_Clause()]
        var message = Label.public.protobuf
        message.secrecy.formula = list
        #expect(try Label(protobuf: message) == .top)
    }

    @Test func protobufUsesTheOriginalFieldNumbers() throws {
        // Buckle{secrecy(1): Component{DCFalse(1): Void}, integrity(2): Component{clauses(2): ClauseList{}}}
        let bytes: [UInt8] = [0x0A, 0x02, 0x0A, 0x00, 0x12, 0x02, 0x12, 0x00]
        #expect(try Label(serializedProtobuf: bytes) == .top)
        #expect(try Label.top.protobuf.serializedBytes() == bytes)
    }
}
