import ArgumentParser
import Labels

/// `fstn`: the Faasten user CLI. It talks to a Faasten gateway over HTTP only.
@main
struct FstnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fstn",
        abstract: "The Faasten user CLI: accounts, files, gates and invocations over the HTTP API.",
        discussion: """
            The HTTP commands (login, fs, deploy, invoke) need a gateway, which is not
            built yet; today fstn checks labels locally, as the gateway will parse them.
            """,
        version: "0.1.0",
        subcommands: [CheckLabel.self]
    )

    /// Validates label text locally before it is sent anywhere.
    struct CheckLabel: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-label", abstract: "Check label text and print its canonical form.")
        @Argument(help: "A label such as 'alice,alice'.") var label: String

        func run() throws {
            do {
                print(try Label(parsing: label))
            } catch {
                throw ValidationError("invalid label: \(error)")
            }
        }
    }
}
