import JSONValues

/// A gate's fields as `fstn gate create | update` and `fstn deploy` give them, turned into
/// the API's *NewObject* (`POST /v1/fs/{path}`) or *GateUpdate* (`PATCH /v1/fs/{path}`).
///
/// ```swift
/// var gate = GateOptions()
/// gate.privilege = "alice"; gate.image = "~:hello.image"
/// try gate.newObject()   // {"kind":"gate","privilege":"alice","image":"~:hello.image"}
/// ```
public struct GateOptions: Sendable, Equatable {
    public var privilege: String?
    /// The FS path of a blob entry holding the function image.
    public var image: String?
    /// The FS path of another gate to run instead of an image.
    public var redirect: String?
    /// `--public`: anyone may invoke the gate (invoker clearance `T`); the alternative to
    /// ``invokerClearance``, which by default is the gate's privilege.
    public var anyoneMayInvoke = false
    public var invokerClearance: String?
    /// What results are released with; by default nothing is declassified.
    public var declassify: String?
    /// Only for a new gate: a gate's label is fixed at creation.
    public var label: String?
    public var runtime: String?
    public var memoryMB: Int?
    public var timeoutMilliseconds: Int?
    public var fresh: Bool?
    public var concurrency: Int?

    public init() {}

    /// The options that only a function gate (one with an image) has.
    var functionOptions: [String] {
        [
            runtime.map { _ in "--runtime" }, memoryMB.map { _ in "--memory" }, timeoutMilliseconds.map { _ in "--timeout-ms" },
            fresh.map { _ in "--fresh" }, concurrency.map { _ in "--concurrency" },
        ].compactMap { $0 }
    }

    /// The body that creates the gate: needs `privilege` and exactly one of `image` and `redirect`.
    public func newObject() throws(FstnError) -> JSONValue {
        guard privilege != nil else { throw FstnError("--privilege is required", next: "e.g. --privilege alice") }
        guard (image == nil) != (redirect == nil) else {
            throw FstnError(
                "give exactly one of --image and --redirect", next: "--image BLOBPATH runs a function; --redirect GATEPATH another gate")
        }
        var fields = try fieldsChecked()
        fields["kind"] = "gate"
        if let label { fields["label"] = .string(try Arguments.label("--label", label)) }
        return .object(fields)
    }

    /// The body that changes the given fields of a gate; at least one is needed.
    public func update() throws(FstnError) -> JSONValue {
        guard label == nil else {
            throw FstnError("a gate's label cannot be changed", next: "create a new gate with `fstn gate create PATH --label L`")
        }
        guard image == nil || redirect == nil else {
            throw FstnError("give at most one of --image and --redirect", next: "a gate runs an image or redirects, not both")
        }
        let fields = try fieldsChecked()
        guard !fields.isEmpty else {
            throw FstnError("nothing to change", next: "give at least one option, e.g. --memory 256; see `fstn gate update --help`")
        }
        return .object(fields)
    }

    private func fieldsChecked() throws(FstnError) -> [String: JSONValue] {
        if redirect != nil, let option = functionOptions.first {
            throw FstnError("\(option) applies to a gate with an image, not to a redirect gate", next: "drop \(option) or --redirect")
        }
        var fields: [String: JSONValue] = [:]
        if let privilege { fields["privilege"] = .string(try Arguments.component("--privilege", privilege)) }
        if anyoneMayInvoke {
            guard invokerClearance == nil else {
                throw FstnError(
                    "give at most one of --public and --invoker-clearance",
                    next: "--public lets anyone invoke the gate (invoker clearance T); --invoker-clearance C only holders of C")
            }
            fields["invoker_clearance"] = "T"
        }
        if let invokerClearance {
            fields["invoker_clearance"] = .string(try Arguments.component("--invoker-clearance", invokerClearance))
        }
        if let declassify { fields["declassify"] = .string(try Arguments.component("--declassify", declassify)) }
        if let image { fields["image"] = .string(try Self.path("--image", image)) }
        if let redirect { fields["redirect"] = .string(try Self.path("--redirect", redirect)) }
        if let runtime {
            guard !runtime.isEmpty else { throw FstnError("--runtime cannot be empty", next: "e.g. --runtime python3 or --runtime node") }
            fields["runtime"] = .string(runtime)
        }
        if let memoryMB { fields["memory_mb"] = .number(Double(try Arguments.positive("--memory", memoryMB))) }
        if let timeoutMilliseconds {
            fields["timeout_ms"] = .number(Double(try Arguments.positive("--timeout-ms", timeoutMilliseconds)))
        }
        if let fresh { fields["fresh"] = .bool(fresh) }
        if let concurrency {
            guard concurrency >= 0 else {
                throw FstnError(
                    "--concurrency must be 0 (the default) or more, not \(concurrency)", next: "give 0 for the server's default")
            }
            fields["concurrency"] = .number(Double(concurrency))
        }
        return fields
    }

    static func path(_ option: String, _ text: String) throws(FstnError) -> String {
        guard !text.isEmpty else { throw FstnError("\(option) cannot be empty", next: "give an FS path such as ~:hello.image") }
        return text
    }
}
