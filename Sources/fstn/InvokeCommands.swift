import ArgumentParser
import Foundation
import FstnKit
import JSONValues
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#endif

/// `fstn invoke | logs | invocation | ping`: running gates and looking at what they did.
extension FstnCommand {
    struct Invoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invoke a gate (POST /v1/invoke/{path}): its body on stdout, status and label on stderr.",
            discussion: "Exit status 0 when the function answers 2xx. --async prints the invocation's id instead.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The gate's FS path.") var path: String
        @Argument(help: "The payload, or - for stdin (default: stdin unless it is a terminal).") var payload: String?
        @Option(help: "The label the request starts at (X-Faasten-Label; default T,T).") var label: String?
        @Option(help: "The highest label it may reach (X-Faasten-Clearance; default: no bound).") var clearance: String?
        @Flag(help: "Queue it and print its id; see it later with `fstn invocation ID`.") var async = false
        @Option(name: .customLong("header"), help: "A header NAME:VALUE for the function (repeatable).") var headers: [String] = []

        func run() async throws {
            try await options.run { connection, output in
                var request = APIRequest(.POST, "/v1/invoke/" + PathEncoding.segment(path))
                if let label { request.headers.append(("X-Faasten-Label", try Arguments.label("--label", label))) }
                if let clearance { request.headers.append(("X-Faasten-Clearance", try Arguments.label("--clearance", clearance))) }
                for header in headers {
                    let (name, value) = try Arguments.header(header)
                    request.headers.append((name, value))
                }
                request.body = .bytes(Self.payload(payload), contentType: "application/octet-stream")
                if async {
                    request.query = [("async", "true")]
                    let queued = try await connection.json(request)
                    let id = queued["id"]?.readable ?? "?"
                    output.result(queued) { id }
                    if !output.json { output.note("see it with: fstn invocation \(id)") }
                    return
                }
                let response = try await connection.send(request)
                // The gateway's own errors are JSON objects; a function's answer is octet-stream.
                if response.isJSON, let error = try? response.json(), error["error"]?.string != nil {
                    throw await connection.error(for: response, request: request)
                }
                if output.json {
                    var result: [String: JSONValue] = ["status": .number(Double(response.status))]
                    result["label"] = response.endLabel.map(JSONValue.string) ?? .null
                    result["invocation"] = response.invocation.map(JSONValue.string) ?? .null
                    if let text = String(validating: response.body, as: UTF8.self) {
                        result["body"] = .string(text)
                    } else {
                        result["body_base64"] = .string(Data(response.body).base64EncodedString())
                    }
                    output.print(.object(result))
                } else {
                    try output.bytes(response.body)
                    // On a terminal, the status line starts on a line of its own; a pipe
                    // gets the body byte for byte.
                    if isatty(1) != 0, let last = response.body.last, last != 0x0A { try output.bytes([0x0A]) }
                    var note = "status \(response.status), label \(response.endLabel ?? "-")"
                    if let id = response.invocation { note += ", invocation \(id)" }
                    output.note(note)
                }
                guard response.isSuccess else {
                    if !output.json {
                        output.note("error: the function answered HTTP \(response.status)")
                        output.note("see what it printed with `fstn logs \(response.invocation ?? "ID")`")
                    }
                    throw ExitCode(2)
                }
            }
        }

        /// The payload: the argument, or stdin for `-` (and when absent, unless stdin is a terminal).
        static func payload(_ argument: String?) -> [UInt8] {
            if let argument, argument != "-" { return Array(argument.utf8) }
            if argument == nil && isatty(0) == 1 { return [] }
            return [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an invocation's stdout and stderr (GET /v1/invocations/{id}/logs).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The invocation's id.") var id: String

        func run() async throws {
            try await options.run { connection, output in
                let response = try await connection.expect(
                    APIRequest(.GET, "/v1/invocations/" + PathEncoding.segment(id) + "/logs", advice: ErrorAdvice.unknownInvocation))
                if output.json {
                    output.print(["id": .string(id), "logs": .string(String(decoding: response.body, as: UTF8.self))])
                } else {
                    try output.bytes(response.body)
                }
            }
        }
    }

    struct Invocation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an invocation's state and outcome (GET /v1/invocations/{id}).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The invocation's id.") var id: String

        func run() async throws {
            try await options.run { connection, output in
                let record = try await connection.json(
                    APIRequest(.GET, "/v1/invocations/" + PathEncoding.segment(id), advice: ErrorAdvice.unknownInvocation))
                output.result(record) { Rendering.lines(Rendering.invocationFields(record)) }
            }
        }
    }

    struct Ping: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check that the server answers (GET /faasten/ping) and how fast.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.run { connection, output in
                let clock = ContinuousClock()
                let start = clock.now
                let response = try await connection.expect(APIRequest(.GET, "/faasten/ping", authenticated: false))
                let elapsed = clock.now - start
                let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                let reply = String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                output.result(["reply": .string(reply), "elapsed_ms": .number(milliseconds), "server": .string(connection.server)]) {
                    "\(reply) \(String(format: "%.2f", milliseconds)) ms (\(connection.server))"
                }
            }
        }
    }
}
