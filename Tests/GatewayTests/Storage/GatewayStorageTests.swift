import FaastenTestSupport
import Foundation
import Gateway
import Store
import Testing

/// The gateway's rows on both backends: accounts and sessions, revoked tokens, the
/// audit log with its filters, triggers with claimed ticks, deliveries deduplicated.
@Suite("Gateway rows")
struct GatewayStorageTests {
    @Test(arguments: Backend.allCases)
    func accountsSessionsAndRevocations(backend: Backend) async throws {
        try await withStore(backend) { store in
        try store.prepare(GatewaySchema.schema)
        let alice = AccountRow(name: "alice", passwordHash: "h1", createdAt: 1)
        try await store.transaction(.write) { tx in
            try tx.saveAccount(alice)
            try tx.saveAccount(AccountRow(name: "admin", passwordHash: "h0", admin: true, createdAt: 0))
            try tx.insertSession(SessionRow(id: "s1", account: "alice", expiresAt: 100))
            try tx.insertSession(SessionRow(id: "s2", account: "alice", expiresAt: 100))
        }
        #expect(try await store.transaction(.read) { try $0.accounts().map(\.name) } == ["admin", "alice"])
        #expect(try await store.transaction(.read) { try $0.account("admin")?.admin } == true)
        let disabled = AccountRow(name: "alice", passwordHash: "h1", disabled: true, createdAt: 1)
        try await store.transaction(.write) { try $0.saveAccount(disabled) }
        #expect(try await store.transaction(.read) { try $0.account("alice") } == disabled)
        // A session is taken once.
        #expect(try await store.transaction(.write) { try $0.takeSession("s1") }?.account == "alice")
        #expect(try await store.transaction(.write) { try $0.takeSession("s1") } == nil)
        try await store.transaction(.write) { try $0.deleteSessions(account: "alice") }
        #expect(try await store.transaction(.write) { try $0.takeSession("s2") } == nil)
        // Revocations are kept until they expire, then forgotten.
        try await store.transaction(.write) { try $0.revokeToken("t1", expiresAt: 10, now: 0) }
        try await store.transaction(.write) { try $0.revokeToken("t1", expiresAt: 10, now: 0) }
        #expect(try await store.transaction(.read) { try $0.isTokenRevoked("t1") })
        try await store.transaction(.write) { try $0.revokeToken("t2", expiresAt: 50, now: 20) }
        #expect(try await store.transaction(.read) { try $0.isTokenRevoked("t1") } == false)
        #expect(try await store.transaction(.write) { try $0.deleteAccount("alice") })
        #expect(try await store.transaction(.write) { try $0.deleteAccount("alice") } == false)
        }
    }

    @Test(arguments: Backend.allCases)
    func theAuditLogIsFilteredNewestFirst(backend: Backend) async throws {
        try await withStore(backend) { store in
        try store.prepare(GatewaySchema.schema)
        try await store.transaction(.write) { tx in
            try tx.appendAudit([
                AuditRow(at: 1, principal: "alice", action: "login", object: "alice"),
                AuditRow(at: 2, principal: "bob", action: "login", object: "bob"),
                AuditRow(at: 3, principal: "alice", action: "declassify", object: "inv-1", labels: #"{"after":"T,T"}"#),
            ])
        }
        let all = try await store.transaction(.read) { try $0.audit(AuditQuery()) }
        #expect(all.map(\.at) == [3, 2, 1])
        #expect(try await store.transaction(.read) { try $0.audit(AuditQuery(principal: "alice")) }.map(\.action) == ["declassify", "login"])
        #expect(try await store.transaction(.read) { try $0.audit(AuditQuery(action: "login", since: 2)) }.map(\.principal) == ["bob"])
        #expect(try await store.transaction(.read) { try $0.audit(AuditQuery(object: "inv-1", until: 3)) }.first?.labels == #"{"after":"T,T"}"#)
        #expect(try await store.transaction(.read) { try $0.audit(AuditQuery(limit: 1)) }.count == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func triggersClaimTicksOnceAndDeliveriesAreDeduplicated(backend: Backend) async throws {
        try await withStore(backend) { store in
        try store.prepare(GatewaySchema.schema)
        let schedule = TriggerRow(
            id: "t1", owner: "alice", name: "nightly", path: "home:<alice,alice>:triggers:nightly", source: "schedule",
            schedule: "0 3 * * *", timezone: "UTC", nextRun: 100, createdAt: 1)
        let hook = TriggerRow(id: "t2", owner: "alice", name: "ci", path: "p", source: "github", createdAt: 2)
        #expect(try await store.transaction(.write) { try $0.insertTrigger(schedule) })
        #expect(try await store.transaction(.write) { try $0.insertTrigger(hook) })
        let sameName = TriggerRow(id: "t3", owner: "alice", name: "ci", path: "p", source: "github", createdAt: 2)
        #expect(try await store.transaction(.write) { try $0.insertTrigger(sameName) } == false)
        #expect(try await store.transaction(.read) { try $0.triggers(owner: "alice").map(\.name) } == ["ci", "nightly"])
        #expect(try await store.transaction(.read) { try $0.trigger("t1") } == schedule)
        #expect(try await store.transaction(.read) { try $0.dueTriggers(at: 99) }.isEmpty)
        #expect(try await store.transaction(.read) { try $0.dueTriggers(at: 100) }.map(\.id) == ["t1"])
        // Two claims of one tick: one wins.
        #expect(try await store.transaction(.write) { try $0.claimTick("t1", expected: 100, next: 200) })
        #expect(try await store.transaction(.write) { try $0.claimTick("t1", expected: 100, next: 200) } == false)

        let first = DeliveryRow(trigger: "t2", delivery: "d1", event: "push", at: 5, outcome: "queued")
        #expect(try await store.transaction(.write) { try $0.insertDelivery(first) })
        #expect(try await store.transaction(.write) { try $0.insertDelivery(first) } == false)
        let started = DeliveryRow(trigger: "t2", delivery: "d1", event: "push", at: 5, invocation: "inv-1", outcome: "queued")
        try await store.transaction(.write) { try $0.updateDelivery(started) }
        try await store.transaction(.write) { _ = try $0.insertDelivery(DeliveryRow(trigger: "t2", delivery: "d2", event: "ping", at: 6, outcome: "ping")) }
        #expect(try await store.transaction(.read) { try $0.delivery(trigger: "t2", delivery: "d1") } == started)
        #expect(try await store.transaction(.read) { try $0.deliveries(trigger: "t2", limit: 10) }.map(\.delivery) == ["d2", "d1"])
        try await store.transaction(.write) { try $0.deleteDelivery(trigger: "t2", delivery: "d2") }
        #expect(try await store.transaction(.read) { try $0.deliveries(trigger: "t2", limit: 10) }.count == 1)
        #expect(try await store.transaction(.write) { try $0.deleteTrigger("t2") })
        #expect(try await store.transaction(.read) { try $0.deliveries(trigger: "t2", limit: 10) }.isEmpty)
        }
    }
}
