import ArgumentParser
import AsyncHTTPClient
import Foundation
import FstnKit

/// The options every command takes: which server, which saved user, which output form.
struct GlobalOptions: ParsableArguments {
    @Option(help: "The gateway's URL (default: $FSTN_SERVER, `server` in config.json, else http://127.0.0.1:8080).")
    var server: String?

    @Option(help: "The saved session to act as (default: the last `fstn login` at the server).")
    var user: String?

    @Flag(help: "Print the server's JSON (or one JSON object) for scripts.")
    var json = false

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    var configuration: Configuration { Configuration(environment: environment) }

    /// The server, resolved from the option, the environment and config.json.
    func resolvedServer() throws(FstnError) -> String {
        try configuration.server(option: server, environment: environment)
    }


    /// Runs a command's body, reporting an error as `error: …` plus what to do next (and,
    /// with --json, the server's error object on stdout) and exiting 1 or 2.
    func run(_ body: (Connection, Output) async throws -> Void) async throws {
        let output = Output(json: json)
        let client = HTTPClientFactory.make()
        let outcome: Result<Void, any Error>
        do {
            let connection = try Connection(server: try resolvedServer(), user: user, configuration: configuration, client: client)
            outcome = .success(try await body(connection, output))
        } catch {
            outcome = .failure(error)
        }
        try? await client.shutdown()
        switch outcome {
        case .success:
            return
        case let .failure(error as FstnError):
            output.report(error)
            throw ExitCode(error.exitCode)
        case let .failure(error as ExitCode):
            throw error
        case let .failure(error):
            output.report(FstnError("\(error)", next: "if this persists, please report it"))
            throw ExitCode(2)
        }
    }
}
