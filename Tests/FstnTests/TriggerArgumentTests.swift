import FstnKit
import JSONValues
import Testing

/// `fstn trigger` checks made before any request, and how triggers and deliveries are shown.
@Suite("Trigger arguments")
struct TriggerArgumentTests {
    /// A closure for `--secret-stdin` that a test can tell was (or was not) called.
    final class SecretReader {
        let secret: String
        var reads = 0
        init(_ secret: String) { self.secret = secret }
        func read() -> String {
            reads += 1
            return secret
        }
    }

    @Test func aWebhookSendsWhatIsGivenCanonical() throws {
        var trigger = TriggerOptions(name: "ci", source: .github, gate: "~:build", privilege: "alice/ci")
        #expect(try trigger.newTrigger() == ["name": "ci", "source": "github", "gate": "~:build", "privilege": "alice/ci"])
        trigger.startLabel = "alice,T"
        trigger.secret = "s3cret"
        #expect(
            try trigger.newTrigger()
                == [
                    "name": "ci", "source": "github", "gate": "~:build", "privilege": "alice/ci", "start_label": "alice,T",
                    "secret": "s3cret",
                ])
    }

    @Test func aScheduleNeedsACronExpressionWithFiveFields() throws {
        var trigger = TriggerOptions(name: "nightly", source: .schedule, gate: "~:report", privilege: "alice")
        let missing = #expect(throws: FstnError.self) { try trigger.newTrigger() }
        #expect(missing?.reason == "--schedule is required for --source schedule")
        #expect(missing?.next != nil)
        for bad in ["", "0 3 * *", "0 3 * * * *", "@daily"] {
            trigger.schedule = bad
            let error = #expect(throws: FstnError.self, "\(bad)") { try trigger.newTrigger() }
            #expect(error?.reason.hasPrefix("--schedule:") == true, "\(bad)")
        }
        trigger.schedule = " 0  3 * *\tmon-fri "
        trigger.timezone = "Europe/Paris"
        #expect(
            try trigger.newTrigger()
                == [
                    "name": "nightly", "source": "schedule", "gate": "~:report", "privilege": "alice", "schedule": "0 3 * * mon-fri",
                    "timezone": "Europe/Paris",
                ])
        trigger.timezone = " "
        #expect(throws: FstnError.self) { try trigger.newTrigger() }
    }

    @Test(arguments: [TriggerSource.github, .generic])
    func aScheduleAndATimeZoneAreOnlyForSchedules(source: TriggerSource) throws {
        var trigger = TriggerOptions(name: "hook", source: source, gate: "~:build", privilege: "alice")
        trigger.schedule = "0 3 * * *"
        let error = #expect(throws: FstnError.self) { try trigger.newTrigger() }
        #expect(error?.reason == "--schedule applies only to --source schedule, not \(source.rawValue)")
        trigger.schedule = nil
        trigger.timezone = "UTC"
        let timezone = #expect(throws: FstnError.self) { try trigger.newTrigger() }
        #expect(timezone?.reason.hasPrefix("--timezone applies only") == true)
    }

    @Test func aScheduleHasNoSecretAndStdinIsNotReadForIt() throws {
        var trigger = TriggerOptions(name: "nightly", source: .schedule, gate: "~:report", privilege: "alice")
        trigger.schedule = "0 3 * * *"
        trigger.secret = "s3cret"
        let error = #expect(throws: FstnError.self) { try trigger.newTrigger() }
        #expect(error?.reason == "--secret applies to webhooks, not to --source schedule")
        #expect(error?.exitCode == 2)
        trigger.secret = nil
        trigger.secretFromStandardInput = true
        let reader = SecretReader("s3cret")
        let stdin = #expect(throws: FstnError.self) { try trigger.newTrigger(readSecret: reader.read) }
        #expect(stdin?.reason == "--secret-stdin applies to webhooks, not to --source schedule")
        #expect(reader.reads == 0)
    }

    @Test func theSecretComesFromOneOptionAndStdinOnlyAfterTheOtherChecks() throws {
        var trigger = TriggerOptions(name: "hook", source: .generic, gate: "~:build", privilege: "alice")
        trigger.secretFromStandardInput = true
        let reader = SecretReader("from-stdin")
        #expect(try trigger.newTrigger(readSecret: reader.read)["secret"] == "from-stdin")
        #expect(reader.reads == 1)

        trigger.secret = "on-the-command-line"
        #expect(throws: FstnError.self) { try trigger.newTrigger(readSecret: reader.read) }
        trigger.secret = nil
        trigger.privilege = "alice,bob"  // a label, not a privilege: refused before stdin is read
        #expect(throws: FstnError.self) { try trigger.newTrigger(readSecret: reader.read) }
        #expect(reader.reads == 1)

        trigger.privilege = "alice"
        let empty = #expect(throws: FstnError.self) { try trigger.newTrigger(readSecret: SecretReader("").read) }
        #expect(empty?.reason == "the secret cannot be empty")
    }

    @Test func namesLabelsPrivilegesAndGatesAreChecked() throws {
        for name in ["ci", "a", "0day", "nightly-report", "c.d_e", "-x", String(repeating: "x", count: 64)] {
            try TriggerOptions.validateName(name)
        }
        for name in ["", "CI", "a b", "a:b", "a/b", "ä", String(repeating: "x", count: 65)] {
            #expect(throws: FstnError.self, "\(name)") { try TriggerOptions.validateName(name) }
            let trigger = TriggerOptions(name: name, source: .github, gate: "~:build", privilege: "alice")
            #expect(throws: FstnError.self, "\(name)") { try trigger.newTrigger() }
        }
        var trigger = TriggerOptions(name: "ci", source: .github, gate: "", privilege: "alice")
        #expect(throws: FstnError.self) { try trigger.newTrigger() }
        trigger.gate = "~:build"
        trigger.startLabel = "alice,"
        let label = #expect(throws: FstnError.self) { try trigger.newTrigger() }
        #expect(label?.reason.hasPrefix("--start-label: invalid label") == true)
        trigger.startLabel = nil
        trigger.privilege = "alice,bob"
        let privilege = #expect(throws: FstnError.self) { try trigger.newTrigger() }
        #expect(privilege?.reason.hasPrefix("--privilege: invalid component") == true)
    }

    @Test func deliveryLimitsAndIDsAreCheckedAndHookURLsAreOneSegment() throws {
        #expect(try TriggerOptions.deliveryLimit(1) == 1)
        #expect(try TriggerOptions.deliveryLimit(200) == 200)
        for bad in [0, -1, 201] {
            #expect(throws: FstnError.self, "\(bad)") { try TriggerOptions.deliveryLimit(bad) }
        }
        #expect(try TriggerOptions.id("abc") == "abc")
        #expect(throws: FstnError.self) { try TriggerOptions.id("") }
        #expect(TriggerOptions.hookURL(server: "https://faasten.example", id: "k3x9") == "https://faasten.example/v1/hooks/k3x9")
        #expect(TriggerOptions.hookURL(server: "http://127.0.0.1:8080", id: "a/b") == "http://127.0.0.1:8080/v1/hooks/a%2Fb")
        #expect(TriggerSource.allCases.filter(\.takesHooks) == [.github, .generic])
    }

    @Test func triggersAndDeliveriesAreTablesAndLines() {
        let nightly: JSONValue = [
            "id": "t2", "name": "nightly", "owner": "alice", "source": "schedule", "gate": "~:report", "privilege": "alice",
            "start_label": "T,T", "schedule": "0 3 * * *", "timezone": "UTC", "next_run": 86400, "hook_url": .null, "created_at": 0,
        ]
        let ci: JSONValue = [
            "id": "t1", "name": "ci", "owner": "alice", "source": "github", "gate": "~:build", "privilege": "alice/ci",
            "start_label": "T,T", "schedule": .null, "timezone": "UTC", "next_run": .null, "hook_url": "/v1/hooks/t1", "created_at": 60,
        ]
        #expect(
            Rendering.triggerTable(["triggers": .array([ci, nightly])]) == """
                ID  NAME     SOURCE    GATE      NEXT RUN
                t1  ci       github    ~:build   -
                t2  nightly  schedule  ~:report  1970-01-02T00:00:00Z
                """)
        #expect(Rendering.triggerTable(["triggers": .array([])]) == "ID  NAME  SOURCE  GATE  NEXT RUN")

        let fields = Rendering.triggerFields(ci, server: "https://faasten.example")
        #expect(
            fields.map(\.0) == ["id", "name", "owner", "source", "gate", "privilege", "start_label", "timezone", "hook_url", "created_at"])
        #expect(fields.first { $0.0 == "hook_url" }?.1 == "https://faasten.example/v1/hooks/t1")
        #expect(fields.first { $0.0 == "created_at" }?.1 == "1970-01-01T00:01:00Z")
        let absolute = Rendering.triggerFields(
            ["id": "t1", "hook_url": "https://public.example/v1/hooks/t1"], server: "http://127.0.0.1:8080")
        #expect(absolute.last?.1 == "https://public.example/v1/hooks/t1")

        let deliveries: JSONValue = [
            "deliveries": .array([
                ["delivery": "d-2", "event": "push", "at": 1_700_000_000, "invocation": "inv-9", "outcome": "completed"],
                ["delivery": "d-1", "event": "ping", "at": 1_699_999_999, "invocation": .null, "outcome": "ping"],
            ])
        ]
        #expect(
            Rendering.deliveryTable(deliveries) == """
                AT                    EVENT  DELIVERY  INVOCATION  OUTCOME
                2023-11-14T22:13:20Z  push   d-2       inv-9       completed
                2023-11-14T22:13:19Z  ping   d-1       -           ping
                """)
    }
}
