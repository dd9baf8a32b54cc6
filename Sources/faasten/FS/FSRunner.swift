import ArgumentParser
import FileSystem
import Gateway
import Foundation
import Labels
import Store

/// What a `faasten fs` command produced.
enum FSOutput {
    case nothing
    case bytes([UInt8])
    case listing([DirectoryEntry])
    case facets([Label])
    case info(ObjectInfo)
    case message(String)
}

/// Runs one `faasten fs` operation: opens the store, acts in the context, and
/// prints the outcome only if the context's final label may be released to the
/// person acting (`ReleaseCheck`, the same rule the gateway applies).
///
/// Exit status: 0 success, 1 refused by a rule, 2 any other error.
struct FSRunner {
    let options: FSOptions

    func run(
        _ operation: (FileSystem, inout SecurityContext) async throws(FSError) -> (FSOutput, ObjectInfo?)
    ) async throws {
        var context = try options.context(capped: true)
        let (store, fileSystem, audit) = try await options.openFileSystem()
        let outcome: Result<(FSOutput, ObjectInfo?), FSError>
        do {
            outcome = .success(try await operation(fileSystem, &context))
        } catch {
            outcome = .failure(error)
        }
        await audit.flush()
        try? await store.close()
        // Everything below is shown to the person holding the privilege: first the one rule.
        do {
            try ReleaseCheck.check(context.label, to: context.privilege)
        } catch {
            report(error: error, context: context)
            throw ExitCode(1)
        }
        switch outcome {
        case let .success((output, object)):
            print(output, object: object, context: context)
        case let .failure(error):
            report(error: error, context: context)
            throw ExitCode(error.rule == nil ? 2 : 1)
        }
    }

    /// Runs a system operation (init, adduser): no context, no release check.
    func runAsSystem(_ operation: (FileSystem) async throws(FSError) -> String) async throws {
        let (store, fileSystem, audit) = try await options.openFileSystem()
        let result: Result<String, FSError>
        do {
            result = .success(try await operation(fileSystem))
        } catch {
            result = .failure(error)
        }
        await audit.flush()
        try? await store.close()
        do {
            let message = try result.get()
            if options.json {
                Swift.print(JSON.object(["result": .string(message)]).text)
            } else {
                Swift.print(message)
            }
        } catch {
            FileDescriptorOutput.standardError.writeLine("error: \(error)")
            throw ExitCode(2)
        }
    }

    private func print(_ output: FSOutput, object: ObjectInfo?, context: SecurityContext) {
        if options.json {
            var fields: [String: JSON] = ["result": json(output), "context": json(context)]
            if let object { fields["object"] = json(object) }
            Swift.print(JSON.object(fields).text)
            return
        }
        switch output {
        case .nothing:
            break
        case let .bytes(bytes):
            FileDescriptorOutput.standardOutput.write(bytes)
        case let .listing(entries):
            for entry in entries { Swift.print("\(entry.name)\t\(entry.kind)") }
        case let .facets(labels):
            for label in labels { Swift.print("<\(label)>") }
        case let .info(info):
            Swift.print("\(info.kind)\t\(info.label.map(\.description) ?? "unlabeled")")
        case let .message(text):
            Swift.print(text)
        }
        // Labels go to stderr so that stdout stays the data itself.
        if let object {
            FileDescriptorOutput.standardError.writeLine("object: \(object.kind), label \(object.label.map(\.description) ?? "none")")
        }
        FileDescriptorOutput.standardError.writeLine("context: \(context)")
    }

    private func report(error: FSError, context: SecurityContext) {
        if options.json {
            var fields: [String: JSON] = ["message": .string("\(error)")]
            if let rule = error.rule { fields["rule"] = .string(rule) }
            Swift.print(JSON.object(["error": .object(fields), "context": json(context)]).text)
        } else {
            FileDescriptorOutput.standardError.writeLine("error: \(error)")
            FileDescriptorOutput.standardError.writeLine("context: \(context)")
        }
    }

    private func json(_ output: FSOutput) -> JSON {
        switch output {
        case .nothing: return .null
        case let .bytes(bytes):
            var fields: [String: JSON] = ["base64": .string(Data(bytes).base64EncodedString()), "size": .number(Double(bytes.count))]
            if let text = String(validating: bytes, as: UTF8.self) { fields["text"] = .string(text) }
            return .object(fields)
        case let .listing(entries):
            return .array(entries.map { .object(["name": .string($0.name), "kind": .string("\($0.kind)")]) })
        case let .facets(labels): return .array(labels.map { .string($0.description) })
        case let .info(info): return json(info)
        case let .message(text): return .string(text)
        }
    }

    private func json(_ info: ObjectInfo) -> JSON {
        .object(["kind": .string("\(info.kind)"), "label": info.label.map { .string($0.description) } ?? .null])
    }

    private func json(_ context: SecurityContext) -> JSON {
        .object([
            "label": .string(context.label.description), "privilege": .string(context.privilege.description),
            "clearance": .string(context.clearance.description),
        ])
    }
}

/// A JSON value, written with sorted keys.
enum JSON {
    case null
    case string(String)
    case number(Double)
    case array([JSON])
    case object([String: JSON])

    var text: String {
        switch self {
        case .null: return "null"
        case let .number(value): return value == value.rounded() ? String(Int64(value)) : String(value)
        case let .string(value):
            let data = try! JSONEncoder().encode(value)
            return String(decoding: data, as: UTF8.self)
        case let .array(values): return "[" + values.map(\.text).joined(separator: ",") + "]"
        case let .object(fields):
            return "{" + fields.sorted { $0.key < $1.key }.map { JSON.string($0.key).text + ":" + $0.value.text }
                .joined(separator: ",") + "}"
        }
    }
}
