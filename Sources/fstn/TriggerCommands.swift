import ArgumentParser
import FstnKit
import JSONValues
import NIOHTTP1

extension TriggerSource: ExpressibleByArgument {}

/// `fstn trigger create | list | show | delete | deliveries`: gates invoked by webhooks
/// (GitHub or signed generic ones) or on a schedule, with a privilege their owner chose.
struct TriggerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trigger", abstract: "Invoke a gate on a webhook or a schedule.",
        discussion: """
            A trigger invokes --gate with --privilege (yours must imply it) when a GitHub \
            webhook or a signed generic webhook arrives at its hook URL, or at each minute \
            its cron --schedule matches. It is stored as home:<you,you>:triggers:NAME and \
            named by a random id. See docs/api.md and docs/operations.md.
            """,
        subcommands: [Create.self, List.self, Show.self, Delete.self, Deliveries.self])

    @OptionGroup var options: GlobalOptions

    /// Advice for a request naming a trigger by id.
    static let unknownID = ErrorAdvice.unknownTrigger

    /// `/v1/triggers/{id}` and what follows it.
    static func path(_ id: String, _ suffix: String = "") throws(FstnError) -> String {
        "/v1/triggers/" + PathEncoding.segment(try TriggerOptions.id(id)) + suffix
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a trigger (POST /v1/triggers); prints its id, hook URL and secret.",
            discussion: """
                The secret of a webhook is shown only here. Without --secret or \
                --secret-stdin the server generates one (32 random bytes, hex). Examples:

                  fstn trigger create ci --source github --gate ~:build --privilege alice/ci
                  fstn trigger create nightly --source schedule --schedule '0 3 * * *' \\
                      --timezone Europe/Paris --gate ~:report --privilege alice
                """)
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The trigger's name: 1 to 64 of a-z 0-9 - _ .") var name: String
        @Option(help: "Where events come from.") var source: TriggerSource
        @Option(help: "The FS path of the gate to invoke (resolved when the trigger fires).") var gate: String
        @Option(help: "The privilege the invocations run with; yours must imply it.") var privilege: String
        @Option(help: "The label invocations start at (default T,T).") var startLabel: String?
        @Option(help: "For --source schedule: minute hour day-of-month month day-of-week, e.g. '0 3 * * *'.")
        var schedule: String?
        @Option(help: "For --source schedule: the schedule's IANA time zone (default UTC).") var timezone: String?
        @Option(help: "For a webhook: the shared secret (visible in `ps`: prefer --secret-stdin).") var secret: String?
        @Flag(help: "For a webhook: read the shared secret from stdin.") var secretStdin = false

        func run() async throws {
            try await options.run { connection, output in
                var trigger = TriggerOptions(name: name, source: source, gate: gate, privilege: privilege)
                trigger.startLabel = startLabel
                trigger.schedule = schedule
                trigger.timezone = timezone
                trigger.secret = secret
                trigger.secretFromStandardInput = secretStdin
                let body = try trigger.newTrigger()
                let owner = try await connection.requireSession()
                let example = "\(owner.principal ?? "alice")/ci"
                let request = APIRequest(
                    .POST, "/v1/triggers", body: .json(body),
                    advice: [
                        "refused": "your privilege must imply \(privilege): give a part of it, e.g. --privilege \(example)",
                        "conflict":
                            "you have a trigger named \(name): choose another name, or delete it (`fstn trigger list` shows its id)",
                    ])
                let created = try await connection.json(request)
                let id = created["id"]?.readable ?? "?"
                let hookURL = source.takesHooks ? TriggerOptions.hookURL(server: connection.server, id: id) : nil
                output.result(created) {
                    var fields: [(String, String)] = [("id", id)]
                    if let hookURL { fields.append(("hook_url", hookURL)) }
                    if let next = created["next_run"], !next.isNull { fields.append(("next_run", Rendering.time(next))) }
                    if let secret = created["secret"], !secret.isNull { fields.append(("secret", secret.readable)) }
                    return Rendering.lines(fields)
                }
                guard !output.json, let hookURL else { return }
                output.note("keep the secret now: it is not shown again")
                switch source {
                case .github:
                    output.note(
                        "in the repository: Settings → Webhooks → Add webhook: Payload URL \(hookURL), "
                            + "Content type application/json, Secret: the secret above")
                case .generic:
                    output.note(
                        "sign each request: X-Faasten-Timestamp: <unix seconds>, "
                            + "X-Faasten-Signature: sha256=<hex HMAC-SHA256 of \"<timestamp>.<body>\" with the secret>")
                case .schedule:
                    break
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List your triggers (GET /v1/triggers).")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.run { connection, output in
                _ = try await connection.requireSession()
                let list = try await connection.json(APIRequest(.GET, "/v1/triggers"))
                output.result(list) { Rendering.triggerTable(list) }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a trigger's fields (GET /v1/triggers/{id}).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The trigger's id.") var id: String

        func run() async throws {
            try await options.run { connection, output in
                let request = APIRequest(.GET, try TriggerCommand.path(id), advice: TriggerCommand.unknownID)
                _ = try await connection.requireSession()
                let trigger = try await connection.json(request)
                output.result(trigger) { Rendering.lines(Rendering.triggerFields(trigger, server: connection.server)) }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a trigger (DELETE /v1/triggers/{id}); its hook URL stops working.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The trigger's id.") var id: String

        func run() async throws {
            try await options.run { connection, output in
                let request = APIRequest(.DELETE, try TriggerCommand.path(id), advice: TriggerCommand.unknownID)
                _ = try await connection.requireSession()
                try await connection.expect(request)
                output.result(["id": .string(id), "deleted": true]) { "deleted trigger \(id)" }
            }
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a trigger's deliveries, newest first (GET /v1/triggers/{id}/deliveries).",
            discussion: "OUTCOME is ping, queued, running, completed, failed or refused; see an invocation with `fstn invocation ID`.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The trigger's id.") var id: String
        @Option(help: "How many (1 to \(TriggerOptions.maximumDeliveries); default: the server's, 50).") var limit: Int?

        func run() async throws {
            try await options.run { connection, output in
                var request = APIRequest(.GET, try TriggerCommand.path(id, "/deliveries"), advice: TriggerCommand.unknownID)
                if let limit { request.query = [("limit", String(try TriggerOptions.deliveryLimit(limit)))] }
                _ = try await connection.requireSession()
                let list = try await connection.json(request)
                output.result(list) { Rendering.deliveryTable(list) }
            }
        }
    }
}
