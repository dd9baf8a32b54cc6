import ArgumentParser
import FileSystem
import Gateway
import Foundation
import Labels
import Monitor
import Store
import Worker

/// `faasten invoke`: one invocation of a gate through the invocation engine, in this process.
struct InvokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke",
        abstract: "Invoke the gate at PATH as --as, with the payload from --payload or stdin.",
        discussion: """
            The gate is resolved in your context (every directory and gate on the way lifts
            --start-label), your privilege must imply its invoker clearance, and the function
            runs in a sandbox with the gate's privilege. Its result is labeled with its final
            label downgraded by the gate's declassify component, and printed only if your
            privilege satisfies that label's secrecy. The body goes to stdout; the status and
            label to stderr (or one JSON object with --json). --logs also prints the function's
            output, if you may read it. Exit status: 0 completed, 1 refused by a rule, 2 failed.
            """
    )

    @OptionGroup var options: FSOptions
    @Argument(help: "The gate's path, e.g. ~:hello or home:<alice,alice>:apps:thumbnail.") var path: String
    @Option(help: "The payload (default: stdin).") var payload: String?
    @Option(name: .customLong("header"), help: "A header NAME:VALUE shown to the function (repeatable).")
    var headers: [String] = []
    @Flag(help: "Print the function's stdout and stderr (if your privilege may read them).") var logs = false
    @Flag(help: "Run without cgroup limits if none can be created (development machines only).") var noLimits = false

    func run() async throws {
        let path = try FSCommand.parse(path)
        let context = try options.context(capped: false)
        var headerMap: [String: String] = [:]
        for header in headers {
            guard let colon = header.firstIndex(of: ":"), header[..<colon].isEmpty == false else {
                throw CommandError("--header takes NAME:VALUE, not '\(header)'")
            }
            headerMap[header[..<colon].lowercased()] = String(header[header.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        let body = payload.map { Array($0.utf8) } ?? [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        let (store, fileSystem, audit) = try await options.openFileSystem()
        var configuration = EngineConfiguration()
        configuration.prestartedPerRuntime = 0  // one invocation: nothing to pre-start for
        let worker: Engine
        do {
            worker = try Engine.bubblewrap(fileSystem: fileSystem, configuration: configuration, requireLimits: !noLimits)
        } catch {
            await audit.flush()
            try? await store.close()
            throw CommandError("\(error)")
        }
        let result = await worker.invoke(
            InvocationRequest(
                target: .path(path), startLabel: context.label, clearance: context.clearance, invoker: context.privilege,
                payload: body, headers: headerMap))
        await worker.shutdown()
        let view = logs ? try? await worker.invocation(result.id, visibleTo: context.privilege) : nil
        await audit.flush()
        try? await store.close()
        let exit = InvokeReport(json: options.json, privilege: context.privilege).print(result, logs: view?.logs)
        if exit != 0 { throw ExitCode(exit) }
    }
}

/// Prints an invocation's result after the release check; the exit status it earns.
struct InvokeReport {
    let json: Bool
    let privilege: Privilege

    func print(_ result: InvocationResult, logs: Result<[UInt8], FSError>?) -> Int32 {
        var fields: [String: JSON] = ["id": .string(result.id), "label": .string(result.label.description)]
        var exit: Int32 = 0
        var body: [UInt8]?
        do throws(FSError) {
            try ReleaseCheck.check(result.label, to: privilege)
            switch result.outcome {
            case let .completed(response):
                fields["status"] = .number(Double(response.status))
                body = response.body
            case let .refused(error):
                fields["error"] = .object(["message": .string("\(error)"), "rule": error.rule.map(JSON.string) ?? .null])
                exit = error.rule == nil ? 2 : 1
            case let .failed(failure):
                fields["error"] = .object(["message": .string(failure.description), "code": .string(failure.code)])
                exit = 2
            case let .busy(reason):
                fields["error"] = .object(["message": .string("busy: \(reason)"), "code": .string("busy")])
                exit = 2
            }
        } catch {
            fields["error"] = .object(["message": .string("\(error)"), "rule": error.rule.map(JSON.string) ?? .null])
            exit = 1
        }
        switch logs {
        case let .success(bytes)?: fields["logs"] = .string(String(decoding: bytes, as: UTF8.self))
        case let .failure(error)?: fields["logs"] = .object(["refused": .string("\(error)")])
        case nil: break
        }
        if json {
            if let body {
                if let text = String(validating: body, as: UTF8.self) {
                    fields["body"] = .string(text)
                } else {
                    fields["body_base64"] = .string(Data(body).base64EncodedString())
                }
            }
            Swift.print(JSON.object(fields).text)
            return exit
        }
        // Status and label first, on stderr: stdout is the body, byte for byte.
        if case let .number(status)? = fields["status"] {
            FileDescriptorOutput.standardError.writeLine("status \(Int(status)), label \(result.label)")
        } else {
            FileDescriptorOutput.standardError.writeLine("label \(result.label)")
        }
        if case let .object(error)? = fields["error"], case let .string(message)? = error["message"] {
            FileDescriptorOutput.standardError.writeLine("error: \(message)")
        }
        if case let .string(text)? = fields["logs"] {
            FileDescriptorOutput.standardError.writeLine("logs:\n" + text)
        } else if case let .object(refusal)? = fields["logs"], case let .string(reason)? = refusal["refused"] {
            FileDescriptorOutput.standardError.writeLine("logs withheld: \(reason)")
        }
        if let body { FileDescriptorOutput.standardOutput.write(body) }
        return exit
    }
}
