import Foundation
import Processes

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway PostgreSQL server for tests and benchmarks: `initdb` in a temporary
/// directory, `postgres` listening on 127.0.0.1 at a free port, stopped and deleted by
/// ``stop()`` (and at process exit for ``shared()``).
///
/// ```swift
/// let server = try LocalPostgres.shared()
/// let url = try server.createDatabase()   // postgres://faasten@127.0.0.1:PORT/t_1
/// ```
///
/// PostgreSQL refuses to run as root, so as root the server runs as the `postgres`
/// user (`runuser`). It never touches the distribution's own cluster.
public final class LocalPostgres: @unchecked Sendable {
    public let port: Int
    public let directory: String
    public let username = "faasten"
    private let binaries: String
    private let runAs: String?
    private let lock = NSLock()
    private var databases = 0
    private var stopped = false

    /// Why a server could not be started.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// A certificate and its key (PEM files) for the server to offer TLS with.
    public struct TLSFiles: Sendable {
        public let certificate: String
        public let key: String

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// Starts a new server. `durable: false` turns fsync off (tests only); `tls` makes
    /// it offer TLS (it still accepts plain connections: clients choose).
    public init(durable: Bool = false, tls: TLSFiles? = nil) throws {
        binaries = try Self.findBinaries()
        runAs = getuid() == 0 ? "postgres" : nil
        let template = NSTemporaryDirectory() + "faasten-pg-XXXXXX"
        var buffer = Array(template.utf8CString)
        guard mkdtemp(&buffer) != nil else { throw Failure(description: "cannot create a temporary directory") }
        directory = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        port = try Self.freePort()
        do {
            if let user = runAs {
                try Self.run("/bin/chown", ["-R", user, directory])
            }
            let data = directory + "/data"
            try runPostgres("initdb", ["-D", data, "-U", username, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-locale"])
            var options = "-h 127.0.0.1 -p \(port) -k \(directory) -c max_connections=200"
            if !durable { options += " -F -c synchronous_commit=off -c full_page_writes=off" }
            if let tls {
                // The server reads them as its own user, and insists on a private key.
                for (source, name) in [(tls.certificate, "server.crt"), (tls.key, "server.key")] {
                    try Self.run("/bin/cp", [source, data + "/" + name])
                    try Self.run("/bin/chmod", ["0600", data + "/" + name])
                    if let user = runAs { try Self.run("/bin/chown", [user, data + "/" + name]) }
                }
                options += " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key"
            }
            try runPostgres("pg_ctl", ["-w", "-t", "60", "-D", data, "-l", directory + "/server.log", "-o", options, "start"])
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    deinit { stop() }

    /// `postgres://faasten@127.0.0.1:PORT/NAME`.
    public func url(database: String) -> String {
        "postgres://\(username)@127.0.0.1:\(port)/\(database)"
    }

    /// Creates a new, empty database and returns its URL.
    public func createDatabase(prefix: String = "t") throws -> String {
        let name = lock.withLock { () -> String in
            databases += 1
            return "\(prefix)_\(getpid())_\(databases)"
        }
        try runPostgres("psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", username, "-d", "postgres", "-q", "-c", "CREATE DATABASE \(name)"])
        return url(database: name)
    }

    /// Stops the server and removes its directory. Safe to call twice.
    public func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        try? runPostgres("pg_ctl", ["-w", "-D", directory + "/data", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: One server per process

    nonisolated(unsafe) private static var sharedServer: LocalPostgres?
    private static let sharedLock = NSLock()

    /// A server shared by everything in this process, started on first use and
    /// stopped when the process exits.
    public static func shared() throws -> LocalPostgres {
        try sharedLock.withLock {
            if let server = sharedServer { return server }
            let server = try LocalPostgres()
            sharedServer = server
            atexit { LocalPostgres.sharedServer?.stop() }
            return server
        }
    }

    // MARK: Processes

    private func runPostgres(_ tool: String, _ arguments: [String]) throws {
        let path = binaries + "/" + tool
        if let user = runAs {
            try Self.run("/sbin/runuser", ["-u", user, "--", path] + arguments)
        } else {
            try Self.run(path, arguments)
        }
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let result = try ChildProcess.run(executable, arguments, workingDirectory: "/")
        guard result.status.succeeded else {
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) \(result.status): \(result.output)\(result.errors)")
        }
    }

    /// The newest installed server's bin directory.
    private static func findBinaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let candidates = versions.compactMap(Int.init).sorted(by: >).map { "\(root)/\($0)/bin" }
        for bin in candidates where FileManager.default.isExecutableFile(atPath: bin + "/initdb") {
            return bin
        }
        throw Failure(description: "PostgreSQL is not installed; install it with: sudo apt-get install -y postgresql")
    }

    /// A port nobody listens on right now (bind to port 0 and let the kernel pick).
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "cannot create a socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure(description: "cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
