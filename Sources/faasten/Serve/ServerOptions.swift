import ArgumentParser
import FileSystem
import Foundation
import Gateway
import Keys
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Store
import Worker
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// The HTTP server's options, shared by `faasten serve` and `faasten gateway`.
struct HTTPOptions: ParsableArguments {
    @Option(help: "HOST:PORT to listen on (port 0: any free port).") var listen: String = "127.0.0.1:8080"
    @Option(help: "Seconds an access token lives.") var tokenLifetime: Int = 3600
    @Option(help: "bcrypt cost for passwords (4-31).") var bcryptCost: Int = 12
    @Option(help: "Largest blob upload: bytes, or a size with a unit (KiB, MiB, GiB), e.g. 64MiB.") var maxBlob: String = "1GiB"

    /// The gateway's configuration, or why the options are wrong.
    func configuration() throws -> GatewayConfiguration {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw CommandError("--listen takes HOST:PORT, e.g. 127.0.0.1:8080, not \(listen)")
        }
        guard (4...31).contains(bcryptCost) else { throw CommandError("--bcrypt-cost must be from 4 to 31") }
        guard tokenLifetime >= 60 else { throw CommandError("--token-lifetime must be at least 60 seconds") }
        let maxBlobBytes = try ByteSize.parse(maxBlob, option: "--max-blob")
        var configuration = GatewayConfiguration()
        configuration.host = String(listen[..<colon])
        configuration.port = port
        configuration.tokenLifetime = .seconds(tokenLifetime)
        configuration.bcryptCost = UInt8(bcryptCost)
        configuration.maxBlobBytes = maxBlobBytes
        return configuration
    }
}

/// A size option: bytes (`1048576`), or a number with a binary unit (`64MiB`, `1GiB`,
/// `512KiB`; `B` for bytes). One unit everywhere, so `--max-blob 64` is 64 bytes.
enum ByteSize {
    static let units: [(suffix: String, shift: Int)] = [("KiB", 10), ("MiB", 20), ("GiB", 30), ("TiB", 40), ("B", 0)]

    static func parse(_ text: String, option: String) throws -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var digits = Substring(trimmed)
        var shift = 0
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            digits = trimmed.dropLast(unit.suffix.count)
            shift = unit.shift
            break
        }
        guard let value = Int64(digits.trimmingCharacters(in: .whitespaces)), value > 0, value <= Int64.max >> shift else {
            throw CommandError("\(option) takes a positive size: bytes, or a number with KiB, MiB or GiB (e.g. 64MiB), not '\(text)'")
        }
        return value << shift
    }
}

/// Logging and metrics for a long-running process.
enum ServerProcess {
    /// Logs to stderr at `level`; metrics into the returned Prometheus registry.
    static func bootstrap(logLevel: String) throws -> PrometheusCollectorRegistry {
        guard let level = Logger.Level(rawValue: logLevel) else { throw CommandError("--log-level: unknown level \(logLevel)") }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// Where the default master key file lives: beside a store that is a directory,
    /// else (PostgreSQL) in the data directory.
    static func masterKeyDirectory(for location: StoreLocation, dataDirectory: String) -> String {
        if case let .directory(path) = location { return (path as NSString).expandingTildeInPath }
        return (dataDirectory as NSString).expandingTildeInPath
    }

    /// The master key's source `spec` names (default: `master-key` in `dataDirectory`).
    static func masterKeySource(_ spec: String?, dataDirectory: String?) throws -> MasterKeySource {
        do {
            return try MasterKeySource.parse(spec, dataDirectory: dataDirectory)
        } catch {
            throw CommandError("--master-key: \(error)")
        }
    }

    /// The key ring of `store`: a wrong or missing master key stops the process here,
    /// before anything else is done, with the reason.
    /// A server (`keepingCurrent`) re-reads the data keys every 10 s, to take up one that
    /// `faasten keys rotate --data` made while it runs; a one-shot command need not.
    static func keyRing(_ store: any Store, _ source: MasterKeySource, audit: AuditLog, keepingCurrent: Bool = false) async throws -> KeyRing {
        do {
            let ring = try await KeyRing.open(
                store: store, master: source, onEvent: auditing(audit),
                beforeFirstKey: { () throws(KeyError) in try await FileSystem.checkNoSealedContent(in: store) })
            if keepingCurrent { _ = ring.keepCurrent() }
            return ring
        } catch {
            await audit.flush()
            throw CommandError("\(error)")
        }
    }

    /// Key operations as audit events, by the operator.
    static func auditing(_ audit: AuditLog) -> @Sendable (KeyEvent) -> Void {
        { event in audit.record(AuditEvent(principal: "operator", action: event.action, object: event.keyID, detail: event.detail)) }
    }

    /// The file system on `store`, initialized on first use (the root, `home`).
    /// Content is sealed with `keys`; a store from before encryption at rest has its
    /// values sealed when its first data key was just made.
    static func fileSystem(on store: any Store, keys: KeyRing) async throws -> FileSystem {
        let fileSystem = try await sealing(store, keys: keys)
        do {
            _ = try await fileSystem.bootstrap()
        } catch {
            throw CommandError("cannot initialize the file system: \(error)")
        }
        return fileSystem
    }

    /// The file system of `store` sealing with `keys`, its values in clear sealed first
    /// if `keys` was just made.
    static func sealing(_ store: any Store, keys: KeyRing) async throws -> FileSystem {
        let fileSystem = FileSystem(store: store, keys: keys)
        if keys.createdFirstKey {
            do {
                try await fileSystem.sealContentInClear()
                try await InvocationRecords.sealInClear(store, keys: keys)
            } catch {
                throw CommandError("cannot seal the store's values: \(error)")
            }
        }
        return fileSystem
    }

    /// Creates the administrator's account if the store has none, and writes its first
    /// password to `directory/admin-password` (0600).
    static func ensureAdmin(_ gateway: Gateway, directory: String, logger: Logger) async throws {
        let path = directory + "/admin-password"
        let created = try await gateway.ensureAdmin { password in
            try? FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard FileManager.default.createFile(atPath: path, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600])
            else {
                throw CommandError("cannot write the administrator's password to \(path): make \(directory) writable and start again")
            }
        }
        guard created != nil else { return }
        logger.notice("created the account \(gateway.configuration.adminName); its password is in \(path)")
    }

    /// Serves `gateway` (and `services`) until SIGTERM or SIGINT; on the first signal the
    /// gateway refuses new invocations while requests in flight finish. The first
    /// stdout line is `faasten listening on http://HOST:PORT`.
    static func serve(_ gateway: Gateway, services: [ServiceGroupConfiguration.ServiceConfiguration] = [], logger: Logger) async {
        let host = gateway.configuration.host
        let application = gateway.application { port in
            FileDescriptorOutput.standardOutput.writeLine("faasten listening on http://\(host):\(port)")
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: application), .init(service: TriggerScheduler(triggers: gateway.triggers)),
                    .init(service: Drainer(gateway: gateway, logger: logger)),
                ] + services,
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("the server stopped: \(error)")
        }
    }
}

/// Stops new invocations as soon as a graceful shutdown begins, while the HTTP server
/// lets the requests in flight finish.
struct Drainer: ServiceLifecycle.Service {
    let gateway: Gateway
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.notice("shutting down: new invocations are refused (503); requests and invocations in flight finish")
        gateway.drain()
    }
}

/// Where a cluster process finds PostgreSQL: `--store` or `$FAASTEN_STORE`; the
/// password in the URL, in `--store-password-file`, or in `$PGPASSWORD` (so that it
/// need not appear in a process listing).
struct ClusterStoreOptions: ParsableArguments {
    @Option(help: "The cluster's database: postgres://user@host:port/db?sslmode=require (default: $FAASTEN_STORE).")
    var store: String?
    @Option(help: "A file holding the database password (instead of the URL or $PGPASSWORD).")
    var storePasswordFile: String?
    @Option(help: "Keep blobs in this shared directory (mounted by every gateway and worker) instead of the database.")
    var blobs: String?
    @Option(help: "Database connections this process keeps.") var connections: Int = 8
    @Option(help: "Seconds a worker's claim lasts without a heartbeat (the same on every process).") var lease: Double = 15
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"
    @Option(help: "The master key: a file, env:NAME or command:CMD (default: $FAASTEN_DATA/master-key; every part of a cluster needs the same key).")
    var masterKey: String?

    /// The cluster's key ring, checked at start and kept current (see ``ServerProcess/keyRing(_:_:audit:keepingCurrent:)``).
    func keyRing(_ store: any Store, audit: AuditLog) async throws -> KeyRing {
        let directory = (FSOptions.dataDirectory(nil) as NSString).expandingTildeInPath
        return try await ServerProcess.keyRing(
            store, try ServerProcess.masterKeySource(masterKey, dataDirectory: directory), audit: audit, keepingCurrent: true)
    }

    func location() throws -> PostgresLocation {
        guard let text = store ?? ProcessInfo.processInfo.environment["FAASTEN_STORE"], !text.isEmpty else {
            throw CommandError("--store postgres://user@host:port/db (or $FAASTEN_STORE) is required")
        }
        guard case var .postgres(location) = try StoreLocation(text) else {
            throw CommandError("a cluster needs PostgreSQL: --store postgres://user@host:port/db, not \(text)")
        }
        if location.password == nil {
            if let file = storePasswordFile {
                guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw CommandError("cannot read --store-password-file \(file)")
                }
                location.password = contents.trimmingCharacters(in: .newlines)
            } else if let password = ProcessInfo.processInfo.environment["PGPASSWORD"] {
                location.password = password
            }
        }
        return location
    }

    func open() async throws -> PostgresStore {
        guard (1...256).contains(connections) else { throw CommandError("--connections must be from 1 to 256") }
        guard lease >= 1 else { throw CommandError("--lease must be at least 1 second") }
        let location = try location()
        do {
            return try await PostgresStore(location: location, connections: connections, blobDirectory: blobs)
        } catch {
            throw CommandError("cannot open the store at \(location): \(error)")
        }
    }
}
