import FstnKit
import Testing

/// The warning for an object made where others may unlink or replace it.
@Suite("Parent integrity")
struct ParentIntegrityTests {
    @Test func theParentIsThePathWithoutItsLastName() {
        #expect(ParentIntegrity.parent(of: "home:<T,T>:app") == "home:<T,T>")
        #expect(ParentIntegrity.parent(of: "~:docs") == "~")
        #expect(ParentIntegrity.parent(of: "home:<a:b,T>:x:y") == "home:<a:b,T>:x")
        #expect(ParentIntegrity.parent(of: "home") == nil)
    }

    @Test func aParentWithIntegrityTIsWarnedAboutWithTheCreatorsIntegrityFacet() {
        let lines = ParentIntegrity.warning(for: "home:<T,T>:app", parentLabel: "T,T", principal: "carol")
        #expect(
            lines == [
                "warning: anyone who may read home:<T,T> may unlink or replace home:<T,T>:app (its label T,T has integrity T)",
                "put it in your integrity facet, where only carol may change it: home:<T,carol>:app with --label T,carol",
            ])
        #expect(ParentIntegrity.warning(for: "~:secret:app", parentLabel: "carol,T", principal: nil).first?.hasPrefix("warning: ") == true)
        // Vouched for by someone, or faceted (no label of its own): no warning.
        #expect(ParentIntegrity.warning(for: "home:<T,carol>:app", parentLabel: "T,carol", principal: "carol").isEmpty)
        #expect(ParentIntegrity.warning(for: "~:app", parentLabel: "carol,carol", principal: "carol").isEmpty)
        #expect(ParentIntegrity.warning(for: "home:app", parentLabel: nil, principal: "carol").isEmpty)
    }
}
