import Crypto
import FileSystem
import Foundation
import HTTPTypes
import JSONValues
import Labels
import Logging
import ServiceLifecycle
import Store
import Worker

/// Event triggers: GitHub and generic webhooks and schedules that invoke a gate with
/// the privilege their owner gave them. A trigger's definition (gate, privilege, start
/// label, secret) is a file in its owner's home, labeled `owner,owner`; the store
/// indexes it by a random id, and records its deliveries.
public final class Triggers: Sendable {
    let fileSystem: FileSystem
    let dispatcher: any Dispatcher
    let audit: AuditLog
    let logger: Logger
    /// Webhook tolerance for generic signatures' timestamps, in seconds.
    public let timestampTolerance: Double = 300
    /// The largest webhook body.
    public let maxBodyBytes = 5 << 20

    init(fileSystem: FileSystem, dispatcher: any Dispatcher, audit: AuditLog, logger: Logger) {
        self.fileSystem = fileSystem
        self.dispatcher = dispatcher
        self.audit = audit
        self.logger = logger
    }

    var store: any Store { fileSystem.store }

    /// What a trigger's file holds.
    struct Definition: Sendable {
        var id: String
        var name: String
        var source: String
        var gate: FSPath
        var privilege: Privilege
        var startLabel: Label
        var secret: String?
        var schedule: String?
        var timezone: String

        var json: JSONValue {
            .object([
                "id": .string(id), "name": .string(name), "source": .string(source), "gate": .string(gate.description),
                "privilege": .string(privilege.description), "start_label": .string(startLabel.description),
                "secret": secret.map(JSONValue.string) ?? .null, "schedule": schedule.map(JSONValue.string) ?? .null,
                "timezone": .string(timezone),
            ])
        }

        init(id: String, name: String, source: String, gate: FSPath, privilege: Privilege, startLabel: Label, secret: String?,
            schedule: String?, timezone: String)
        {
            self.id = id
            self.name = name
            self.source = source
            self.gate = gate
            self.privilege = privilege
            self.startLabel = startLabel
            self.secret = secret
            self.schedule = schedule
            self.timezone = timezone
        }

        /// Parses a stored definition; a damaged one is an internal error, not the caller's.
        init(stored bytes: [UInt8]) throws(APIError) {
            let internalError = APIError(.internalServerError, "internal", "a trigger's definition is damaged")
            guard let value = try? JSONValue(decoding: bytes), let id = value["id"]?.string, let name = value["name"]?.string,
                let source = value["source"]?.string, let gateText = value["gate"]?.string, let privilegeText = value["privilege"]?.string,
                let labelText = value["start_label"]?.string, let timezone = value["timezone"]?.string,
                let gate = try? FSPath(parsing: gateText), let privilege = try? Privilege(parsing: privilegeText),
                let startLabel = try? Label(parsing: labelText)
            else { throw internalError }
            self.init(
                id: id, name: name, source: source, gate: gate, privilege: privilege, startLabel: startLabel, secret: value["secret"]?.string,
                schedule: value["schedule"]?.string, timezone: timezone)
        }
    }

    // MARK: Managing triggers

    /// Creates a trigger owned by the caller; returns its index row and secret.
    func create(_ caller: Caller, _ body: JSONFields, now: Date = Date()) async throws -> (TriggerRow, Definition) {
        guard let owner = caller.principal else { throw APIError.unauthorized("creating a trigger needs a token: log in first") }
        let name = try body.string("name")
        try Accounts.validate(name: name)
        let source = try body.string("source")
        guard ["github", "generic", "schedule"].contains(source) else { throw APIError.badRequest("source must be github, generic or schedule") }
        var gate = try Gateway.path(try body.string("gate"))
        let ownerComponent = Component(try Principal(parsing: owner))
        // `~` means the owner's home: the trigger's own privilege may have none.
        if gate.components.first == .home {
            gate = FSPath([.name("home"), .facet(Label(secrecy: ownerComponent, integrity: ownerComponent))] + gate.components.dropFirst())
        }
        guard let privilegeComponent = try Gateway.component(body, "privilege") else { throw APIError.badRequest("privilege is required") }
        let privilege = Privilege(privilegeComponent)
        do {
            try SecurityContext.checkDelegate(held: caller.privilege, wanted: privilegeComponent, for: "a trigger")
        } catch {
            throw APIError.refused(error, labels: ["privilege": caller.privilege.description, "trigger": privilege.description])
        }
        let startLabel = try Gateway.label(body, "start_label") ?? .public
        // A trigger starts its invocations at its start label with its privilege: the
        // privilege must vouch for the label's integrity (start rule).
        do {
            try SecurityContext.checkStart(startLabel, vouchedBy: privilege)
        } catch {
            throw APIError.refused(error, labels: ["start": startLabel.description, "privilege": privilege.description])
        }
        let timezone = try body.optionalString("timezone") ?? "UTC"
        let scheduleText = try body.optionalString("schedule")
        var nextRun: Double?
        var secret = try body.optionalString("secret")
        if source == "schedule" {
            guard let scheduleText else { throw APIError.badRequest("a schedule trigger needs schedule (a cron expression)") }
            guard secret == nil else { throw APIError.badRequest("a schedule trigger takes no secret") }
            let schedule: CronSchedule
            do {
                schedule = try CronSchedule(scheduleText, timeZone: timezone)
            } catch {
                throw APIError.badRequest("schedule: \(error)")
            }
            guard let next = schedule.next(after: now) else { throw APIError.badRequest("schedule: it never fires") }
            nextRun = next.timeIntervalSince1970
        } else {
            guard scheduleText == nil else { throw APIError.badRequest("only a schedule trigger takes schedule") }
            if let given = secret {
                guard (16...256).contains(given.utf8.count) else { throw APIError.badRequest("secret must be 16 to 256 bytes") }
            } else {
                secret = Self.randomHex(32)
            }
        }
        let definition = Definition(
            id: Self.randomHex(16), name: name, source: source, gate: gate, privilege: privilege, startLabel: startLabel, secret: secret,
            schedule: scheduleText, timezone: timezone)
        let ownerLabel = Label(secrecy: ownerComponent, integrity: ownerComponent)
        let home = FSPath([.name("home"), .facet(ownerLabel)])
        let path = FSPath([.name("home"), .facet(ownerLabel), .name("triggers"), .name(name)])
        let row = TriggerRow(
            id: definition.id, owner: owner, name: name, path: path.description, source: source, schedule: scheduleText,
            timezone: timezone, nextRun: nextRun, createdAt: now.timeIntervalSince1970)
        // Written with the caller's own privilege: a delegated token weaker than its
        // owner's cannot write in the owner's home, so it cannot make triggers either.
        // The definition and its index row are one transaction: all or nothing.
        var context = try SecurityContext(privilege: caller.privilege)
        let bytes = definition.json.bytes
        do throws(FSError) {
            _ = try await fileSystem.transaction(.write, &context) { session, context throws(FSError) in
                let homeEntry = try session.resolve(home, &context)
                let directory: Entry
                do throws(FSError) {
                    directory = try session.lookup(homeEntry, "triggers", &context)
                } catch {
                    guard case .notFound = error else { throw error }
                    directory = try session.create(.directory, label: ownerLabel, named: "triggers", in: homeEntry, &context)
                }
                let file = try session.create(.file(bytes), label: ownerLabel, named: name, in: directory, &context)
                guard try session.withRows({ try $0.insertTrigger(row) }) else { throw .nameExists(name) }
                return file
            }
        } catch {
            if case .nameExists = error { throw APIError.conflict("you have a trigger named \(name)") }
            throw APIError.from(error)
        }
        audit.record(
            AuditEvent(
                principal: caller.privilege.description, action: "trigger_create", object: path.description,
                labels: ["privilege": privilege.description, "start": startLabel.description], detail: "\(source) \(definition.id)"))
        return (row, definition)
    }

    /// The caller's trigger `id` (404 for anyone else's).
    func owned(_ id: String, by caller: Caller) async throws -> TriggerRow {
        guard let owner = caller.principal else { throw APIError.unauthorized("triggers need a token: log in first") }
        let row = try await store.transaction(.read) { try $0.trigger(id) }
        // The owner's name and the owner's whole privilege: not a token delegated away.
        guard let row, row.owner == owner, caller.actsAsWholeAccount else {
            throw APIError.notFound("you have no trigger \(id)")
        }
        return row
    }

    func list(_ caller: Caller) async throws -> [TriggerRow] {
        guard let owner = caller.principal else { throw APIError.unauthorized("triggers need a token: log in first") }
        guard caller.actsAsWholeAccount else { return [] }
        return try await store.transaction(.read) { try $0.triggers(owner: owner) }
    }

    /// A trigger's definition, read by the trusted gateway (it holds the secret).
    func definition(_ row: TriggerRow) async throws -> Definition {
        var context = try SecurityContext(privilege: .root)
        let path = try FSPath(parsing: row.path)
        do {
            return try Definition(stored: try await fileSystem.read(fileAt: path, &context).1)
        } catch {
            throw APIError(.internalServerError, "internal", "the trigger's definition cannot be read: \(error)")
        }
    }

    func delete(_ row: TriggerRow, by caller: Caller) async throws {
        // The index row and the definition go together (the directory stays).
        var context = try SecurityContext(privilege: caller.privilege)
        let path = try FSPath(parsing: row.path)
        do throws(FSError) {
            try await fileSystem.transaction(.write, &context) { session, context throws(FSError) in
                _ = try session.withRows { try $0.deleteTrigger(row.id) }
                guard let (parent, name) = path.parentAndName else { return }
                do throws(FSError) {
                    try session.unlink(try session.resolve(parent, &context), name, &context)
                } catch {
                    // A definition already gone does not keep the trigger.
                    guard case .notFound = error else { throw error }
                }
            }
        } catch {
            throw APIError.from(error)
        }
        audit.record(AuditEvent(principal: caller.privilege.description, action: "trigger_delete", object: row.path, detail: row.id))
    }

    /// Deliveries, with the outcome read from the invocation record where there is one.
    func deliveries(_ row: TriggerRow, limit: Int) async throws -> [(DeliveryRow, String)] {
        let rows = try await store.transaction(.read) { try $0.deliveries(trigger: row.id, limit: limit) }
        var result: [(DeliveryRow, String)] = []
        for delivery in rows {
            var outcome = delivery.outcome
            if let id = delivery.invocation, let record = try await dispatcher.invocation(id) {
                outcome = record.status.rawValue
            }
            result.append((delivery, outcome))
        }
        return result
    }

    // MARK: Firing

    /// Records a delivery and submits its invocation; a delivery id seen before is
    /// answered with the invocation it started.
    ///
    /// The delivery row is a claim: the first to insert it submits the invocation, then
    /// records its id. A duplicate that finds the claim without an id waits for it, and
    /// if the first could not queue the invocation (its row is gone), claims the
    /// delivery itself. So a duplicate always names the invocation, and a delivery is
    /// refused (503, nothing recorded) only when no answer for it said 200 or 202.
    func fire(_ row: TriggerRow, _ definition: Definition, event: String, delivery: String, payload: JSONValue, now: Date = Date())
        async throws -> (invocation: String?, duplicate: Bool)
    {
        let body = JSONValue.object([
            "event": .string(event), "delivery": .string(delivery), "trigger": .string(definition.name), "payload": payload,
        ])
        let request = InvocationRequest(
            target: .path(definition.gate), startLabel: definition.startLabel, invoker: definition.privilege, payload: body.bytes,
            headers: ["x-faasten-event": event, "x-faasten-delivery": delivery, "x-faasten-trigger": definition.name])
        let waitUntil = ContinuousClock.now + .seconds(Self.claimWaitSeconds)
        while true {
            let claimedAt = Date().timeIntervalSince1970
            let record = DeliveryRow(trigger: row.id, delivery: delivery, event: event, at: claimedAt, outcome: "queued")
            if try await store.transaction(.write, { try $0.insertDelivery(record) }) {
                return (try await submit(request, claim: record), false)
            }
            guard let earlier = try await store.transaction(.read, { try $0.delivery(trigger: row.id, delivery: delivery) }) else {
                continue  // the first could not queue it: claim it now
            }
            if let invocation = earlier.invocation { return (invocation, true) }
            if earlier.outcome != "queued" { return (nil, true) }  // a ping, which starts nothing
            // A claim whose gateway died before recording its invocation is taken over.
            if Date().timeIntervalSince1970 - earlier.at > Double(Self.claimWaitSeconds) {
                _ = try? await store.transaction(.write) { transaction in
                    if let current = try transaction.delivery(trigger: row.id, delivery: delivery), current.invocation == nil,
                        current.at == earlier.at
                    {
                        try transaction.deleteDelivery(trigger: row.id, delivery: delivery)
                    }
                }
                continue
            }
            guard ContinuousClock.now < waitUntil else {
                throw APIError.unavailable("the delivery \(delivery) is being queued by another request; redeliver it later", retryAfter: 5)
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// How long a duplicate waits for the first's invocation, and how old a claim without
    /// one must be to be taken over.
    static let claimWaitSeconds: Int64 = 30

    /// Submits the invocation of a claimed delivery and records its id on the claim; if
    /// it cannot be queued, the claim goes (so that a redelivery or a waiting duplicate
    /// runs it) and the caller is refused.
    private func submit(_ request: InvocationRequest, claim: DeliveryRow) async throws -> String {
        let id: String
        do {
            id = try await dispatcher.submit(request)
        } catch {
            _ = try? await store.transaction(.write) { try $0.deleteDelivery(trigger: claim.trigger, delivery: claim.delivery) }
            switch error {
            case let SubmissionError.refused(refusal, label):
                throw APIError.refusedInvocation(refusal, label: label, privilege: request.invoker)
            default:
                throw APIError.unavailable("cannot queue the invocation (\(error)); redeliver it later", retryAfter: 5)
            }
        }
        var updated = claim
        updated.invocation = id
        let final = updated
        // The invocation is accepted: its id is recorded whatever it takes.
        for attempt in 1...10 {
            do {
                try await store.transaction(.write) { try $0.updateDelivery(final) }
                break
            } catch {
                logger.error("cannot record the invocation \(id) of delivery \(claim.delivery) (try \(attempt)): \(error)")
                try? await Task.sleep(for: .milliseconds(100 * attempt))
            }
        }
        return id
    }

    /// Fires every schedule due at `now`, each tick once: the tick is claimed in the
    /// store (moved to the schedule's next time after `now`) before it runs, so missed
    /// ticks run once and a second process or a restart does not run it again.
    public func tick(now: Date = Date()) async {
        let due: [TriggerRow]
        do {
            due = try await store.transaction(.read) { try $0.dueTriggers(at: now.timeIntervalSince1970) }
        } catch {
            logger.error("cannot read the schedules: \(error)")
            return
        }
        for row in due where row.source == "schedule" {
            guard let expected = row.nextRun, let text = row.schedule else { continue }
            do {
                let schedule = try CronSchedule(text, timeZone: row.timezone)
                // `nil` (never again) is stored as infinity: the row stays, and never fires.
                let next = schedule.next(after: now)?.timeIntervalSince1970 ?? .infinity
                let claimed = try await store.transaction(.write) { try $0.claimTick(row.id, expected: expected, next: next) }
                guard claimed else { continue }
                let definition = try await definition(row)
                let tick = String(Int(expected))
                do {
                    _ = try await fire(
                        row, definition, event: "schedule", delivery: "schedule-\(tick)",
                        payload: .object(["scheduled_for": .number(expected)]), now: now)
                } catch let error as APIError where error.status == .serviceUnavailable {
                    // Not queued (the queue is full): give the tick back, so that the next
                    // second tries it again instead of losing it.
                    _ = try? await store.transaction(.write) { try $0.claimTick(row.id, expected: next, next: expected) }
                    throw error
                }
            } catch {
                logger.error("the schedule \(row.id) did not fire: \(error)")
            }
        }
    }

    // MARK: Signatures

    /// Whether `signature` (`sha256=<hex>`) is the HMAC-SHA256 of `message` with `secret`,
    /// compared in constant time.
    static func signatureIsValid(_ signature: String, message: [UInt8], secret: String) -> Bool {
        guard signature.hasPrefix("sha256="), let mac = hexBytes(signature.dropFirst(7)), mac.count == 32 else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message, using: SymmetricKey(data: Array(secret.utf8)))
    }

    static func hexBytes(_ text: Substring) -> [UInt8]? {
        guard text.utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    static func randomHex(_ count: Int) -> String {
        var random = SystemRandomNumberGenerator()
        return (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
    }
}

/// Fires due schedules every second until the server stops.
public struct TriggerScheduler: ServiceLifecycle.Service {
    let triggers: Triggers

    public init(triggers: Triggers) {
        self.triggers = triggers
    }

    public func run() async throws {
        // Ends with the graceful shutdown (which cancels the sleep).
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            await triggers.tick()
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
