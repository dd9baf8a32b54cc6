import FstnKit
import JSONValues
import Testing

/// What `fstn` tells a person about a gate it made: who may invoke it and what its
/// results release, in words.
@Suite("Gate access")
struct GateAccessTests {
    static func gate(clearance: String, declassify: String) -> JSONValue {
        ["kind": "gate", "gate": ["privilege": "carol", "invoker_clearance": .string(clearance), "declassify": .string(declassify)]]
    }

    @Test func aClosedGateSaysOnlyItsHoldersMayInvokeItAndNothingIsDeclassified() throws {
        let access = try #require(GateAccess(object: Self.gate(clearance: "carol", declassify: "T")))
        #expect(
            access.description
                == "only holders of carol may invoke it; its results keep the secrecy of what it reads (nothing is declassified)")
    }

    @Test func anOpenGateNamesThePrivilegeItReleasesWith() throws {
        let access = try #require(GateAccess(object: Self.gate(clearance: "T", declassify: "carol")))
        #expect(
            access.description
                == "anyone may invoke it; its results are declassified with carol: anything carol may read that the function reads "
                + "can be shown to whoever invokes it")
        let everything = try #require(GateAccess(object: Self.gate(clearance: "alice&bob", declassify: "F")))
        #expect(everything.invokers == "only holders of alice&bob may invoke it")
        #expect(everything.results.hasPrefix("its results are declassified with F: anything the function reads"))
    }

    @Test func onlyAGateHasAnAccess() {
        #expect(GateAccess(object: ["kind": "directory", "label": "T,T", "entries": .array([])]) == nil)
        #expect(GateAccess.following("created ~:docs", object: ["kind": "directory"]) == "created ~:docs")
        #expect(GateAccess.following("created gate ~:g", object: Self.gate(clearance: "T", declassify: "T")).hasPrefix("created gate ~:g\nanyone"))
    }
}
