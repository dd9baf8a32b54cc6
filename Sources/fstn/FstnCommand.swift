import ArgumentParser
import FstnKit
import Labels

#if canImport(Glibc)
    import Glibc
#endif

/// `fstn`: the Faasten user CLI. It talks to a Faasten gateway over HTTP only.
@main
struct FstnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fstn",
        abstract: "The Faasten user CLI: accounts, files, gates, triggers and invocations over the HTTP API.",
        discussion: """
            Every command talks to the gateway at --server (else $FSTN_SERVER, else `server` \
            in $XDG_CONFIG_HOME/fstn/config.json, else http://127.0.0.1:8080) as the user of \
            the last `fstn login` there (or --user NAME). See docs/api.md.

            Paths: home:<alice,alice>:photos, ~ (your home facet), % (the facet of the \
            current label). Labels: SECRECY,INTEGRITY, e.g. alice,alice.

            Exit status: 0 ok, 1 refused by a flow rule, 2 any other error.
            """,
        version: FstnVersion.current,
        subcommands: [
            Register.self, Login.self, Logout.self, WhoAmI.self, Delegate.self,
            List.self, Cat.self, Put.self, MakeDirectory.self, MakeFaceted.self, Remove.self, Link.self, Stat.self,
            BlobCommand.self, GateCommand.self, Deploy.self, TriggerCommand.self,
            Invoke.self, Logs.self, Invocation.self, Ping.self, CheckLabel.self,
        ]
    )

    @OptionGroup var options: GlobalOptions

    /// Runs the command with this tool's exit codes: usage errors exit 2 (not
    /// ArgumentParser's 64), so that scripts can tell them from a refusal (1).
    static func main() async {
        // A reader that went away (`fstn cat … | head`) is an error to report, not a reason to die.
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            if let code = error as? ExitCode {
                // Already reported by the command: 1 refused, 2 anything else.
                Glibc.exit(code.rawValue == 1 ? 1 : 2)
            }
            var message = fullMessage(for: error)
            if message.hasPrefix("Error: ") { message = "error: " + message.dropFirst("Error: ".count) }
            if !message.isEmpty { Output.standardError(message) }
            Glibc.exit(2)
        }
    }

    /// Validates label text locally before it is sent anywhere.
    struct CheckLabel: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-label", abstract: "Check label text and print its canonical form.")
        @Argument(help: "A label such as 'alice,alice'.") var label: String

        func run() throws {
            do {
                print(try Label(parsing: label))
            } catch {
                // Its own usage, not fstn's list of subcommands (which a ValidationError
                // thrown here would print).
                Output.standardError("error: invalid label '\(label)': \(error)\n" + FstnCommand.usageString(for: CheckLabel.self))
                throw ExitCode(2)
            }
        }
    }
}
