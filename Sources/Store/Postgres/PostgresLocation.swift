import Foundation
import NIOSSL
import PostgresNIO

/// A `postgres://user:password@host:port/database?sslmode=…` address.
///
/// `sslmode=disable` (the default for loopback hosts) sends plain text;
/// `require` insists on TLS with a certificate that verifies (against the system's
/// roots, or `sslrootcert=/path/ca.pem`); `prefer` uses TLS when the server offers it.
/// Credentials belong in configuration or the environment, never in the repository.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: String
    /// A PEM file of the certificate authorities to trust instead of the system's.
    public var rootCertificate: String?

    public init(host: String, port: Int, username: String, password: String?, database: String, tlsMode: String = "disable") {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
    }

    /// Parses a `postgres://` or `postgresql://` URL.
    public init(url text: String) throws {
        guard let schemeEnd = text.range(of: "://"),
            ["postgres", "postgresql"].contains(text[..<schemeEnd.lowerBound])
        else { throw StoreError("not a PostgreSQL URL (postgres://user@host:port/db): \(text)") }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query = ""
        if let q = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: q)...])
            rest = rest[..<q]
        }
        var authority = rest
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = String(rest[rest.index(after: slash)...])
        }
        var user = "postgres"
        var password: String?
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = Self.decode(credentials[..<colon])
                password = Self.decode(credentials[credentials.index(after: colon)...])
            } else {
                user = Self.decode(credentials)
            }
        }
        var host = String(hostPort)
        var port = 5432
        if let colon = hostPort.lastIndex(of: ":") {
            guard let parsed = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw StoreError("bad port in PostgreSQL URL: \(text)")
            }
            port = parsed
            host = String(hostPort[..<colon])
        }
        guard !host.isEmpty else { throw StoreError("no host in PostgreSQL URL: \(text)") }
        var tls = (host == "127.0.0.1" || host == "localhost" || host == "::1") ? "disable" : "prefer"
        var rootCertificate: String?
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw StoreError("bad query parameter in PostgreSQL URL: \(pair)") }
            switch parts[0] {
            case "sslmode":
                guard ["disable", "prefer", "require"].contains(parts[1]) else {
                    throw StoreError("sslmode must be disable, prefer or require, not \(parts[1])")
                }
                tls = String(parts[1])
            case "sslrootcert":
                rootCertificate = Self.decode(parts[1])
            default:
                throw StoreError("unknown PostgreSQL URL parameter \(parts[0]) (known: sslmode, sslrootcert)")
            }
        }
        self.init(
            host: host, port: port, username: user, password: password,
            database: path.isEmpty ? user : Self.decode(path[...]), tlsMode: tls)
        self.rootCertificate = rootCertificate
    }

    /// The URL without the password.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)?sslmode=\(tlsMode)" + (rootCertificate.map { "&sslrootcert=\($0)" } ?? "")
    }

    func configuration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch tlsMode {
        case "disable":
            tls = .disable
        default:
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let rootCertificate { configuration.trustRoots = .file(rootCertificate) }
            let context = try NIOSSLContext(configuration: configuration)
            tls = tlsMode == "require" ? .require(context) : .prefer(context)
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    private static func decode(_ text: Substring) -> String {
        text.removingPercentEncoding ?? String(text)
    }
}

extension Substring {
    fileprivate var removingPercentEncoding: String? {
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
