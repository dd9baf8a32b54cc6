import Labels
import Store

/// A gate: a labeled object that names a function and the privilege it runs with.
///
/// Invoking a gate runs its function with ``privilege``; the invoker must own
/// ``invokerIntegrityClearance``; the result is downgraded with ``declassify``.
/// A redirect gate points at another gate and adds its own privilege, clearance and
/// declassify to the chain.
public struct Gate: Sendable, Hashable, Codable {
    public var target: Target
    /// The privilege the function runs with.
    public var privilege: Privilege
    /// What an invoker's privilege must imply. Defaults to ``privilege``: only whoever
    /// holds the gate's privilege (its owner) may invoke it.
    public var invokerIntegrityClearance: Component
    /// What the result is declassified and endorsed with. Defaults to `T`: nothing is
    /// declassified, so the result keeps the secrecy of everything the function read.
    public var declassify: Component

    /// The default of ``declassify``: nothing. Releasing what the function read to its
    /// invokers is the owner's explicit choice.
    public static let defaultDeclassify = Component.true

    /// Runs a function, or forwards to another gate.
    public enum Target: Sendable, Hashable, Codable {
        case function(FunctionSpec)
        case redirect(ObjectID)

        private enum Keys: String, CodingKey { case function, redirect }

        // Stored as {"function": {…}} or {"redirect": id}.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            if let spec = try container.decodeIfPresent(FunctionSpec.self, forKey: .function) {
                self = .function(spec)
            } else {
                self = .redirect(try container.decode(ObjectID.self, forKey: .redirect))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            switch self {
            case let .function(spec): try container.encode(spec, forKey: .function)
            case let .redirect(id): try container.encode(id, forKey: .redirect)
            }
        }
    }

    /// A gate; without an invoker clearance only its privilege's holders may invoke it,
    /// and without a declassify component nothing is declassified (safe by default).
    public init(target: Target, privilege: Privilege, invokerIntegrityClearance: Component? = nil, declassify: Component? = nil) {
        self.target = target
        self.privilege = privilege
        self.invokerIntegrityClearance = invokerIntegrityClearance ?? privilege.component
        self.declassify = declassify ?? Self.defaultDeclassify
    }
}

/// The function a direct gate runs.
public struct FunctionSpec: Sendable, Hashable, Codable {
    /// The runtime's name: `python3` or `node`.
    public var runtime: String
    /// The function image (an archive of the function directory).
    public var image: BlobName
    /// Memory limit in MiB.
    public var memoryMB: Int
    /// Wall-clock limit per invocation, in milliseconds.
    public var timeoutMilliseconds: Int
    /// Never reuse a sandbox: every invocation gets a clean one (for untrusted inputs).
    public var fresh: Bool
    /// Invocations of this gate running at once; 0 means the engine's default.
    public var concurrency: Int

    public init(
        runtime: String, image: BlobName, memoryMB: Int = 128, timeoutMilliseconds: Int = 30_000, fresh: Bool = false,
        concurrency: Int = 0
    ) {
        self.runtime = runtime
        self.image = image
        self.memoryMB = memoryMB
        self.timeoutMilliseconds = timeoutMilliseconds
        self.fresh = fresh
        self.concurrency = concurrency
    }

    private enum CodingKeys: String, CodingKey { case runtime, image, memoryMB, timeoutMilliseconds, fresh, concurrency }

    // Gates stored before `fresh` and `concurrency` existed decode with the defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        runtime = try container.decode(String.self, forKey: .runtime)
        image = try container.decode(BlobName.self, forKey: .image)
        memoryMB = try container.decode(Int.self, forKey: .memoryMB)
        timeoutMilliseconds = try container.decode(Int.self, forKey: .timeoutMilliseconds)
        fresh = try container.decodeIfPresent(Bool.self, forKey: .fresh) ?? false
        concurrency = try container.decodeIfPresent(Int.self, forKey: .concurrency) ?? 0
    }
}

/// A function's settings: their defaults and ranges, in one place for every way a gate
/// is made or changed (the HTTP API, a CloudCall, `faasten fs mkgate`, `fstn`), which
/// only translate their input and let the file system check it.
public enum FunctionSettings {
    /// The runtimes a gate may name.
    public static let runtimes = ["python3", "node"]
    public static let defaultRuntime = "python3"
    /// Memory limit, in MiB.
    public static let memoryMB = 16...65_536
    public static let defaultMemoryMB = 128
    /// Time limit per invocation, in milliseconds.
    public static let timeoutMilliseconds = 1...3_600_000
    public static let defaultTimeoutMilliseconds = 30_000
    /// Invocations running at once; 0 means the engine's default.
    public static let concurrency = 0...10_000
    public static let defaultConcurrency = 0

    /// The function of a ``GateSpec/Target/function(runtime:image:memoryMB:timeoutMilliseconds:fresh:concurrency:)``
    /// with its defaults, running `image`.
    public static func function(
        runtime: String?, image: BlobName, memoryMB: Int?, timeoutMilliseconds: Int?, fresh: Bool, concurrency: Int?
    ) -> FunctionSpec {
        FunctionSpec(
            runtime: runtime ?? defaultRuntime, image: image, memoryMB: memoryMB ?? defaultMemoryMB,
            timeoutMilliseconds: timeoutMilliseconds ?? defaultTimeoutMilliseconds, fresh: fresh,
            concurrency: concurrency ?? defaultConcurrency)
    }

    /// Checks a function's settings against their ranges.
    public static func check(_ function: FunctionSpec) throws(FSError) {
        guard runtimes.contains(function.runtime) else {
            throw .badArgument("runtime must be \(runtimes.joined(separator: " or ")), not '\(function.runtime)'")
        }
        try check("memory_mb", function.memoryMB, memoryMB, unit: " MiB")
        try check("timeout_ms", function.timeoutMilliseconds, timeoutMilliseconds, unit: " ms")
        try check("concurrency", function.concurrency, concurrency, unit: "")
    }

    private static func check(_ name: String, _ value: Int, _ range: ClosedRange<Int>, unit: String) throws(FSError) {
        guard range.contains(value) else {
            throw .badArgument("\(name) must be from \(range.lowerBound) to \(range.upperBound)\(unit), not \(value)")
        }
    }
}

/// How to create a gate through the file system: the image comes from a blob entry
/// (which the creator must be able to read), a redirect target from a gate entry.
public struct GateSpec: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        /// A function; a setting left `nil` takes its default (``FunctionSettings``).
        case function(
            runtime: String? = nil, image: Entry, memoryMB: Int? = nil, timeoutMilliseconds: Int? = nil, fresh: Bool = false,
            concurrency: Int? = nil)
        case redirect(Entry)
    }

    public var target: Target
    public var privilege: Privilege
    /// `nil`: the gate's privilege (only its holders may invoke it).
    public var invokerIntegrityClearance: Component?
    /// `nil`: nothing is declassified.
    public var declassify: Component?

    public init(target: Target, privilege: Privilege, invokerIntegrityClearance: Component? = nil, declassify: Component? = nil) {
        self.target = target
        self.privilege = privilege
        self.invokerIntegrityClearance = invokerIntegrityClearance
        self.declassify = declassify
    }
}

/// Changes to an existing gate; `nil` leaves a field as it is. A direct gate stays
/// direct and a redirect gate a redirect.
public struct GateUpdate: Sendable, Hashable {
    public var privilege: Privilege?
    public var invokerIntegrityClearance: Component?
    public var declassify: Component?
    /// A new image, from a blob entry (direct gates).
    public var image: Entry?
    public var runtime: String?
    public var memoryMB: Int?
    public var timeoutMilliseconds: Int?
    public var fresh: Bool?
    public var concurrency: Int?
    /// A new target gate (redirect gates).
    public var redirect: Entry?

    public init(
        privilege: Privilege? = nil, invokerIntegrityClearance: Component? = nil, declassify: Component? = nil,
        image: Entry? = nil, runtime: String? = nil, memoryMB: Int? = nil, timeoutMilliseconds: Int? = nil,
        fresh: Bool? = nil, concurrency: Int? = nil, redirect: Entry? = nil
    ) {
        self.fresh = fresh
        self.concurrency = concurrency
        self.privilege = privilege
        self.invokerIntegrityClearance = invokerIntegrityClearance
        self.declassify = declassify
        self.image = image
        self.runtime = runtime
        self.memoryMB = memoryMB
        self.timeoutMilliseconds = timeoutMilliseconds
        self.redirect = redirect
    }
}

/// A gate chain followed to its function, with what the chain accumulated.
public struct ResolvedGate: Sendable, Hashable, Codable {
    public let function: FunctionSpec
    /// The direct gate at the end of the chain.
    public let gate: ObjectID
    /// Conjunction of every hop's privilege: what the function runs with.
    public let privilege: Privilege
    /// Conjunction of every hop's invoker clearance: what the invoker must own.
    public let invokerIntegrityClearance: Component
    /// Conjunction of every hop's declassify: what the result is downgraded with.
    public let declassify: Component
}
