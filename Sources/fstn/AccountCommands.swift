import ArgumentParser
import Foundation
import FstnKit
import JSONValues
import NIOHTTP1

/// `fstn register | login | logout | whoami | delegate`: accounts, sessions and tokens.
extension FstnCommand {
    /// Where a password may come from; shared by register and login.
    struct PasswordOptions: ParsableArguments {
        @Flag(help: "Read the password from stdin (else $FSTN_PASSWORD, else a prompt without echo).")
        var passwordStdin = false

        /// A new password (register): asked twice at a prompt, and checked for the length
        /// the gateway requires before anything is sent.
        func readNew() throws(FstnError) -> String {
            let password = try Password.read(fromStandardInput: passwordStdin, environment: ProcessInfo.processInfo.environment, confirm: true)
            try Password.validate(password)
            return password
        }

        /// An existing password (login), sent as it is: a wrong one, whatever its length,
        /// gets the server's "wrong name or password", not a rule for new passwords.
        func readExisting() throws(FstnError) -> String {
            try Password.read(fromStandardInput: passwordStdin, environment: ProcessInfo.processInfo.environment, confirm: false)
        }
    }

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account and its private home facet home:<NAME,NAME> (POST /v1/accounts).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var password: PasswordOptions
        @Argument(help: "The account's name: 1 to 64 of a-z 0-9 - _ . (it is also your principal).") var name: String

        func run() async throws {
            try await options.run { connection, output in
                try Arguments.validateAccountName(name)
                let request = APIRequest(
                    .POST, "/v1/accounts", body: .json(["name": .string(name), "password": .string(try password.readNew())]),
                    authenticated: false, advice: ["conflict": "the name is taken or reserved: choose another"])
                let account = try await connection.json(request)
                output.result(account) {
                    let principal = account["principal"]?.readable ?? name
                    return "registered \(principal) (home facet home:<\(principal),\(principal)>)"
                }
                if !output.json { output.note("next: fstn login \(name)") }
            }
        }
    }

    struct Login: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Log in and save the session; it becomes the default user (POST /v1/login).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var password: PasswordOptions
        @Argument(help: "The account's name.") var name: String

        func run() async throws {
            try await options.run { connection, output in
                try Arguments.validateAccountName(name)
                let session = try await connection.login(name: name, password: try password.readExisting())
                // The tokens stay in the credentials file: --json shows what a script needs to know.
                var summary: [String: JSONValue] = ["server": .string(connection.server), "user": .string(name)]
                summary["principal"] = session.principal.map(JSONValue.string) ?? .null
                summary["expires_at"] = session.expiresAt.map(JSONValue.number) ?? .null
                summary["refresh_expires_at"] = session.refreshExpiresAt.map(JSONValue.number) ?? .null
                output.result(.object(summary)) {
                    let until = session.expiresAt.map { " until \(Rendering.time(.number($0)))" } ?? ""
                    return "logged in as \(session.principal ?? name) at \(connection.server)\(until)"
                }
            }
        }
    }

    struct Logout: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End the session on the server and forget it here (POST /v1/logout).")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.run { connection, output in
                _ = try await connection.requireSession()
                // The request may refresh an expired token first; the body names the refresh
                // token current after that, so both stop working.
                try await connection.refreshIfExpired()
                let session = try await connection.requireSession()
                var body: [String: JSONValue] = [:]
                if let refreshToken = session.refreshToken { body["refresh_token"] = .string(refreshToken) }
                let response = try await connection.send(APIRequest(.POST, "/v1/logout", body: .json(.object(body))))
                let user = await connection.user ?? "?"
                // A 401 means the server had already ended the session: forget it all the same.
                guard response.isSuccess || response.status == 401 else {
                    throw await connection.error(for: response, request: APIRequest(.POST, "/v1/logout"))
                }
                try await connection.forget()
                output.result(["user": .string(user), "logged_out": true]) { "logged out \(user) at \(connection.server)" }
            }
        }
    }

    struct WhoAmI: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "whoami", abstract: "Show whom the server takes you for (GET /v1/me).")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.run { connection, output in
                let me = try await connection.json(APIRequest(.GET, "/v1/me"))
                let user = await connection.user
                output.result(me) {
                    if me["anonymous"]?.bool == true || me["principal"]?.isNull == true {
                        return "anonymous (privilege \(me["privilege"]?.readable ?? "T")) at \(connection.server)"
                    }
                    var fields: [(String, String)] = [
                        ("principal", me["principal"]?.readable ?? "-"), ("privilege", me["privilege"]?.readable ?? "-"),
                        ("admin", me["admin"]?.readable ?? "no"),
                    ]
                    if let expiry = me["expires_at"], !expiry.isNull { fields.append(("expires_at", Rendering.time(expiry))) }
                    fields.append(("server", connection.server))
                    if let user { fields.append(("user", user)) }
                    return Rendering.lines(fields)
                }
            }
        }
    }

    struct Delegate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a token with a narrower privilege, e.g. alice/photos (POST /v1/delegate).",
            discussion: "Prints the token on stdout. It never outlives your own token.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The privilege of the new token; yours must imply it.") var privilege: String
        @Option(help: "Its lifetime in seconds (default and most: what your token has left).") var expiresIn: Int?
        @Option(help: "Also save it as a session named NAME, for --user NAME.") var saveAs: String?

        func run() async throws {
            try await options.run { connection, output in
                let owner = try await connection.requireSession()
                var body: [String: JSONValue] = ["privilege": .string(try Arguments.component("PRIVILEGE", privilege))]
                if let expiresIn { body["expires_in"] = .number(Double(try Arguments.positive("--expires-in", expiresIn))) }
                if let saveAs, saveAs.isEmpty { throw FstnError("--save-as needs a name", next: "e.g. --save-as alice-photos") }
                let example = "\(owner.principal ?? "alice")/photos"
                let request = APIRequest(
                    .POST, "/v1/delegate", body: .json(.object(body)),
                    advice: ["refused": "your privilege must imply \(privilege): delegate a part of it, e.g. \(example)"])
                let delegated = try await connection.json(request)
                guard let token = delegated["token"]?.string else {
                    throw FstnError(
                        "the server's answer has no token: \(delegated.text)", next: "check that --server names a Faasten gateway")
                }
                if let saveAs {
                    let saved = SavedSession(token: token, expiresAt: delegated["expires_at"]?.number, principal: owner.principal)
                    try await connection.save(saved, as: saveAs)
                }
                output.result(delegated) { token }
                if !output.json {
                    let expiry = delegated["expires_at"].map { ", expires at \(Rendering.time($0))" } ?? ""
                    output.note("privilege \(delegated["privilege"]?.readable ?? privilege)\(expiry)")
                    if let saveAs { output.note("saved: use it with --user \(saveAs)") }
                }
            }
        }
    }
}
