import ArgumentParser
import FileSystem

#if canImport(Glibc)
    import Glibc
#endif

/// `faasten`: the server and operator tool.
@main
struct FaastenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faasten",
        abstract: "Faasten: a FaaS platform whose system interface enforces information flow control.",
        discussion: """
            Labels are written secrecy,integrity, e.g. 'alice&bob,alice'; see docs/labels.md.
            Exit status: 0 on success (or `true`), 1 for `false`, 2 on an error.
            """,
        version: "0.1.0",
        subcommands: [LabelCommand.self, FSCommand.self, InvokeCommand.self, RunCommand.self, ServeCommand.self, GatewayCommand.self, WorkerCommand.self, KeysCommand.self]
    )

    /// Runs the command with this tool's exit codes: usage and input errors exit 2
    /// (not ArgumentParser's 64), so that scripts can tell them from a `false` (1).
    static func main() async {
        // A reader that went away (a closed pipe) is an error to report, not a reason to die.
        signal(SIGPIPE, SIG_IGN)
        guard FlowChecks.enabled else {
            FileDescriptorOutput.standardError.writeLine(
                "error: this faasten was built with FAASTEN_BENCH_ALLOW_ALL=1 (no label checks, for faasten-bench only); build it with `swift build`")
            Glibc.exit(2)
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CommandError {
            FileDescriptorOutput.standardError.writeLine("error: \(error)")
            Glibc.exit(2)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            if let code = error as? ExitCode {
                // Already reported: `false` (1), or an error message printed by the command.
                Glibc.exit(code.rawValue == 0 || code.rawValue == 1 ? code.rawValue : 2)
            }
            let message = fullMessage(for: error)
            if !message.isEmpty { FileDescriptorOutput.standardError.writeLine(message) }
            Glibc.exit(2)
        }
    }
}

/// Bad input to a command, reported as `error: …` with exit status 2 (no usage text).
struct CommandError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
