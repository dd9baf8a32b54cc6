import Foundation
import JSONValues

/// Where a trigger's events come from (docs/api.md, "Triggers: webhooks and schedules").
public enum TriggerSource: String, CaseIterable, Sendable {
    /// A GitHub repository's webhook, signed with `X-Hub-Signature-256`.
    case github
    /// Any sender that signs `"<timestamp>.<body>"` (`X-Faasten-Signature`).
    case generic
    /// A five-field cron expression, in a time zone.
    case schedule

    /// Whether events arrive at `POST /v1/hooks/{id}` (and are signed with a secret).
    public var takesHooks: Bool { self != .schedule }
}

/// A trigger's fields as `fstn trigger create` gives them, checked and turned into the
/// API's *NewTrigger* (`POST /v1/triggers`) before anything is sent.
///
/// ```swift
/// var trigger = TriggerOptions(name: "nightly", source: .schedule, gate: "~:report", privilege: "alice")
/// trigger.schedule = "0 3 * * *"; trigger.timezone = "Europe/Paris"
/// try trigger.newTrigger()
/// // {"name":"nightly","source":"schedule","gate":"~:report","privilege":"alice",
/// //  "schedule":"0 3 * * *","timezone":"Europe/Paris"}
/// ```
public struct TriggerOptions: Sendable, Equatable {
    /// The most deliveries `GET /v1/triggers/{id}/deliveries` returns at once.
    public static let maximumDeliveries = 200

    public var name: String
    public var source: TriggerSource
    /// The FS path of the gate to invoke, resolved when the trigger fires.
    public var gate: String
    /// The privilege the invocation runs with; the creator's must imply it.
    public var privilege: String
    /// The label the invocation starts at (the server's default: `T,T`).
    public var startLabel: String?
    /// A cron expression: required for, and only for, a `schedule` trigger.
    public var schedule: String?
    /// The schedule's time zone (the server's default: `UTC`); only for a `schedule` trigger.
    public var timezone: String?
    /// The hooks' shared secret (the server's default: 32 random bytes, hex).
    public var secret: String?
    /// Whether the secret is read from stdin (its first line) instead of `secret`.
    public var secretFromStandardInput = false

    public init(name: String, source: TriggerSource, gate: String, privilege: String) {
        self.name = name
        self.source = source
        self.gate = gate
        self.privilege = privilege
    }

    /// The body that creates the trigger. Every option is checked first; only then, with
    /// `--secret-stdin`, is the secret read (with `readSecret`).
    public func newTrigger(
        readSecret: () -> String = { Password.firstLine(of: FileHandle.standardInput.readDataToEndOfFile()) }
    ) throws(FstnError) -> JSONValue {
        try Self.validateName(name)
        var fields: [String: JSONValue] = ["name": .string(name), "source": .string(source.rawValue)]
        guard !gate.isEmpty else { throw FstnError("--gate cannot be empty", next: "give the gate's FS path, e.g. --gate ~:build") }
        fields["gate"] = .string(gate)
        fields["privilege"] = .string(try Arguments.component("--privilege", privilege))
        if let startLabel { fields["start_label"] = .string(try Arguments.label("--start-label", startLabel)) }

        if source == .schedule {
            guard let schedule else {
                throw FstnError(
                    "--schedule is required for --source schedule",
                    next: "give a cron expression: minute hour day-of-month month day-of-week, e.g. --schedule '0 3 * * *'")
            }
            fields["schedule"] = .string(try Self.cron(schedule))
            if let timezone {
                guard !timezone.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw FstnError(
                        "--timezone cannot be empty", next: "give an IANA time zone, e.g. --timezone Europe/Paris (default UTC)")
                }
                fields["timezone"] = .string(timezone)
            }
            if secret != nil || secretFromStandardInput {
                let option = secret != nil ? "--secret" : "--secret-stdin"
                throw FstnError("\(option) applies to webhooks, not to --source schedule", next: "drop \(option): a schedule has no secret")
            }
            return .object(fields)
        }

        if schedule != nil {
            throw FstnError(
                "--schedule applies only to --source schedule, not \(source.rawValue)",
                next: "drop --schedule, or use --source schedule for a timed trigger")
        }
        if timezone != nil {
            throw FstnError(
                "--timezone applies only to --source schedule, not \(source.rawValue)",
                next: "drop --timezone: a webhook runs when its event arrives")
        }
        if secret != nil && secretFromStandardInput {
            throw FstnError("give at most one of --secret and --secret-stdin", next: "--secret-stdin keeps the secret out of `ps`")
        }
        if let secret = secretFromStandardInput ? readSecret() : secret {
            guard !secret.isEmpty else {
                throw FstnError("the secret cannot be empty", next: "give one, or leave it out and the server generates one")
            }
            fields["secret"] = .string(secret)
        }
        return .object(fields)
    }

    /// A trigger's name: 1 to 64 of `a-z 0-9 - _ .`.
    public static func validateName(_ name: String) throws(FstnError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_.".utf8)
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy({ allowed.contains($0) }) else {
            throw FstnError("invalid trigger name '\(name)'", next: "a trigger's name has 1 to 64 of a-z 0-9 - _ .")
        }
    }

    /// A cron expression with its five fields (the server checks each field's syntax).
    static func cron(_ text: String) throws(FstnError) -> String {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 5 else {
            throw FstnError(
                "--schedule: '\(text)' has \(fields.count) field\(fields.count == 1 ? "" : "s"), not 5",
                next: "write minute hour day-of-month month day-of-week, e.g. '*/15 * * * *' or '0 9 * * mon-fri'")
        }
        return fields.joined(separator: " ")
    }

    /// `--limit` of `fstn trigger deliveries`: 1 to ``maximumDeliveries``.
    public static func deliveryLimit(_ value: Int) throws(FstnError) -> Int {
        guard (1...maximumDeliveries).contains(value) else {
            throw FstnError(
                "--limit must be 1 to \(maximumDeliveries), not \(value)", next: "the server returns at most \(maximumDeliveries) at once")
        }
        return value
    }

    /// A trigger's id as given on the command line (it becomes one URL path segment).
    public static func id(_ text: String) throws(FstnError) -> String {
        guard !text.isEmpty else { throw FstnError("the trigger id cannot be empty", next: "`fstn trigger list` shows your triggers' ids") }
        return text
    }

    /// Where a hook trigger's events go: `SERVER/v1/hooks/ID`.
    public static func hookURL(server: String, id: String) -> String {
        server + "/v1/hooks/" + PathEncoding.segment(id)
    }
}
