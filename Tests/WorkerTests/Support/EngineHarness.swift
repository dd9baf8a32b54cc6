import FaastenTestSupport
import FileSystem
import Foundation
import JSONValues
import Labels
import Monitor
import Sandbox
import Store
import Testing
import Worker

/// A bootstrapped file system (users alice and bob) with an invocation engine on real
/// bubblewrap sandboxes; the engine is shut down and the store closed afterwards.
struct EngineHarness {
    let fileSystem: FileSystem
    let engine: Engine

    /// Defaults for tests: nothing pre-started (tests that want it ask), short waits.
    static var testing: EngineConfiguration {
        var configuration = EngineConfiguration()
        configuration.prestartedPerRuntime = 0
        configuration.allowPrivateServiceAddresses = true
        // Loopback services answer in milliseconds, but a loaded test machine has taken over 2 s;
        // the tests of timeouts set their own.
        configuration.serviceTimeout = .seconds(10)
        return configuration
    }

    /// Runs `body` with an engine of the Python runtime, and with `node` the JavaScript
    /// one too (failing with what to install if it cannot run here).
    static func with<T>(
        _ configuration: EngineConfiguration = testing, backend: Backend = .sqlite, node: Bool = false,
        _ body: (EngineHarness) async throws -> T
    ) async throws -> T {
        let sandboxes = try TestSandboxes.get()
        let runtimes = try sandboxes.runtimes(node: node)
        return try await withFileSystem(backend) { [runtimes] fileSystem in
            let engine = Engine(
                fileSystem: fileSystem, backend: sandboxes.backend, staging: sandboxes.staging, runtimes: runtimes,
                configuration: configuration)
            let harness = EngineHarness(fileSystem: fileSystem, engine: engine)
            do {
                let result = try await body(harness)
                await engine.shutdown()
                return result
            } catch {
                await engine.shutdown()
                throw error
            }
        }
    }

    /// Creates the gate `path` (with its image beside it as `NAME.image`) acting as `creator`.
    @discardableResult
    func install(
        _ fixture: String, at gatePath: String, as creator: String, privilege: String, label gateLabel: String? = nil,
        invokerClearance: String = "T", declassify: String? = nil, memoryMB: Int = 128, timeoutMilliseconds: Int = 30_000,
        fresh: Bool = false, concurrency: Int = 0, directory: String? = nil
    ) async throws -> Entry {
        let functionDirectory = directory ?? TestSandboxes.fixture(fixture)
        let image = try FunctionImage.pack(directory: functionDirectory)
        let runtime = GuestRuntime.runtimeName(forFunctionIn: functionDirectory) ?? "python3"
        guard let (parent, name) = try path(gatePath).parentAndName else { throw CancellationError() }
        let blob = try fileSystem.blobs.store(image)
        let spec = try (
            privilege: Privilege(parsing: privilege), clearance: Component(parsing: invokerClearance),
            declassify: declassify.map { try Component(parsing: $0) }, label: gateLabel.map { try label($0) }
        )
        var creatorContext = try context(creator)
        return try await fileSystem.transaction(.write, &creatorContext) { fs, context throws(FSError) in
            let directory = try fs.resolve(parent, &context)
            let imageEntry = try fs.create(.blob(blob), label: spec.label, named: name + ".image", in: directory, &context)
            let gate = GateSpec(
                target: .function(
                    runtime: runtime, image: imageEntry, memoryMB: memoryMB, timeoutMilliseconds: timeoutMilliseconds,
                    fresh: fresh, concurrency: concurrency),
                // The tests' gates are public and declassify with their privilege unless a test
                // says otherwise (the platform's defaults are the opposite: see GateDefaultTests).
                privilege: spec.privilege, invokerIntegrityClearance: spec.clearance,
                declassify: spec.declassify ?? spec.privilege.component)
            return try fs.create(.gate(gate), label: spec.label, named: name, in: directory, &context)
        }
    }

    /// Creates `object` at `objectPath` as `creator`.
    @discardableResult
    func create(_ object: NewObject, at objectPath: String, label objectLabel: String?, as creator: String) async throws -> Entry {
        guard let (parent, name) = try path(objectPath).parentAndName else { throw CancellationError() }
        let objectLabel = try objectLabel.map { try label($0) }
        var creatorContext = try context(creator)
        return try await fileSystem.transaction(.write, &creatorContext) { fs, context throws(FSError) in
            try fs.create(object, label: objectLabel, named: name, in: try fs.resolve(parent, &context), &context)
        }
    }

    /// Creates a file as `creator`.
    func createFile(_ filePath: String, _ text: String, label fileLabel: String, as creator: String) async throws {
        try await create(.file(Array(text.utf8)), at: filePath, label: fileLabel, as: creator)
    }

    /// Creates a directory as `creator`.
    func createDirectory(_ directoryPath: String, label directoryLabel: String, as creator: String) async throws {
        try await create(.directory, at: directoryPath, label: directoryLabel, as: creator)
    }

    /// Reads an object as `reader` (a file's bytes or a blob entry's blob) and the label
    /// the reader's context ends at.
    func read(_ objectPath: String, as reader: String) async throws -> (bytes: [UInt8], label: Label) {
        let objectPath = try path(objectPath)
        var readerContext = try context(reader)
        let blobs = fileSystem.blobs
        let bytes = try await fileSystem.transaction(.read, &readerContext) { fs, context throws(FSError) -> [UInt8] in
            let entry = try fs.resolve(objectPath, &context)
            if entry.kind == .blob {
                let name = try fs.read(blob: entry, &context)
                do {
                    guard let reader = try blobs.open(name) else { throw FSError.blobNotFound(name) }
                    return try reader.readAll()
                } catch {
                    throw .storage("\(error)")
                }
            }
            return try fs.read(file: entry, &context)
        }
        return (bytes, readerContext.label)
    }

    /// Invokes the gate at `gatePath` as `invoker` with the toolkit's steps.
    func invoke(
        _ gatePath: String, as invoker: String, steps: [[String: Any]] = [], startLabel: String = "T,T",
        clearance: String = "F,T", headers: [String: String] = [:]
    ) async throws -> InvocationResult {
        let payload = try JSONSerialization.data(withJSONObject: ["steps": steps])
        return await engine.invoke(
            InvocationRequest(
                target: .path(try path(gatePath)), startLabel: try label(startLabel), clearance: try label(clearance),
                invoker: try Privilege(parsing: invoker), payload: [UInt8](payload), headers: headers))
    }
}

extension InvocationResult {
    /// The response body as a JSON object, or a recorded issue.
    func json(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: JSONValue] {
        guard case let .completed(response) = outcome else {
            Issue.record("the invocation did not complete: \(outcome)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return try jsonObject(response.body, sourceLocation: sourceLocation)
    }

    /// The refusal, or a recorded issue.
    func refusal(sourceLocation: SourceLocation = #_sourceLocation) throws -> FSError {
        guard case let .refused(error) = outcome else {
            Issue.record("expected a refusal, got \(outcome)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return error
    }

    /// The failure, or a recorded issue.
    func failure(sourceLocation: SourceLocation = #_sourceLocation) throws -> InvocationFailure {
        guard case let .failed(failure) = outcome else {
            Issue.record("expected a failure, got \(outcome)", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return failure
    }
}
