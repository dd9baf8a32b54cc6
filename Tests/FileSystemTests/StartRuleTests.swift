import FaastenTestSupport
import FileSystem
import Labels
import Testing

/// The start rule, the clearance of a person's own request, and bounded reads: the
/// refused case and the permitted one of each.
@Suite("Start rule and request clearance")
struct StartRuleTests {
    @Test(arguments: [
        ("bob", "T,alice", false), ("bob", "T,F", false), ("bob", "alice,alice", false), ("T", "T,bob", false),
        ("alice/ci", "T,alice", false), ("bob", "T,bob&alice", false),
        ("bob", "T,T", true), ("bob", "alice&carol,T", true), ("bob", "T,bob", true), ("alice", "T,alice/ci", true),
        ("alice&bob", "T,alice&bob", true), ("bob", "T,alice|bob", true), ("F", "T,F", true),
    ])
    func aContextStartsOnlyWhereItsPrivilegeVouches(privilege: String, start: String, allowed: Bool) throws {
        let owned = try Privilege(parsing: privilege)
        let startLabel = try label(start)
        if allowed {
            let context = try SecurityContext(starting: startLabel, privilege: owned)
            #expect(context.label == startLabel)
        } else {
            #expect(throws: FSError.cannotStart(label: startLabel, privilege: owned)) {
                try SecurityContext(starting: startLabel, privilege: owned)
            }
            #expect(FSError.cannotStart(label: startLabel, privilege: owned).rule == "start rule")
        }
    }

    @Test func anInheritedIntegrityVouchesOnlyWithItsInvoker() throws {
        // A function of privilege pma called at T,alice passes alice's integrity on.
        let inherited = try Privilege(parsing: "pma&alice")
        _ = try SecurityContext(starting: try label("T,alice"), privilege: try Privilege(parsing: "pma"), vouchedBy: inherited)
        #expect(throws: FSError.self) {
            try SecurityContext(starting: try label("T,bob"), privilege: try Privilege(parsing: "pma"), vouchedBy: inherited)
        }
    }

    @Test func aRequestsClearanceIsWhatItsCallerMayBeShown() throws {
        #expect(try ReleaseCheck.requestClearance(nil, for: try Privilege(parsing: "alice")) == (try label("alice,T")))
        #expect(try ReleaseCheck.requestClearance(nil, for: .none) == .public)
        #expect(try ReleaseCheck.requestClearance(nil, for: .root) == .top)
        // A requested clearance can only lower it.
        #expect(try ReleaseCheck.requestClearance(try label("F,T"), for: try Privilege(parsing: "bob")) == (try label("bob,T")))
        #expect(try ReleaseCheck.requestClearance(try label("T,T"), for: try Privilege(parsing: "bob")) == .public)
        // Every label below it may be released.
        let alice = try Privilege(parsing: "alice")
        for text in ["alice,T", "alice,alice", "alice|bob,T", "T,T"] {
            let l = try label(text)
            #expect(l.canFlow(to: try ReleaseCheck.requestClearance(nil, for: alice)))
            try ReleaseCheck.check(l, to: alice)
        }
        #expect(!(try label("alice&bob,T")).canFlow(to: try ReleaseCheck.requestClearance(nil, for: alice)))
    }

    @Test func aReadWhoseLabelWouldBeTooLargeIsRefusedAndTaintsNothing() throws {
        let privilege = try Privilege(parsing: (1...40).map { "alice/p\($0)" }.joined(separator: "&"))
        var context = try SecurityContext(privilege: privilege)
        try context.endorse()
        let before = context.label
        let wide = try label("T," + (1...40).map { "alice/q\($0)" }.joined(separator: "&"))
        #expect(throws: FSError.self) { try context.read(wide) }
        #expect(context.label == before)
        do {
            try context.read(wide)
        } catch {
            guard case let .labelTooLarge(reason) = error else {
                Issue.record("expected label too large, got \(error)")
                return
            }
            #expect(reason.hasPrefix("label too large"))
        }
    }
}
