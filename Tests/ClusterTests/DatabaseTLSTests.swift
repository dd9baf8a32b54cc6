import FaastenTestSupport
import Foundation
import LocalPostgres
import Logging
import NIOCore
import PostgresNIO
import Processes
import Store
import Testing

/// Cluster processes reach PostgreSQL over TLS when the URL asks for it, and verify
/// the server's certificate: against `sslrootcert`, else the system's roots.
@Suite("TLS to the database")
struct DatabaseTLSTests {
    /// A certificate authority and a server certificate for 127.0.0.1, made with openssl.
    static func certificates(in directory: String) throws -> (ca: String, tls: LocalPostgres.TLSFiles) {
        let openssl = "/usr/bin/openssl"
        try #require(FileManager.default.isExecutableFile(atPath: openssl), "openssl is missing; install it with: sudo apt-get install -y openssl")
        func run(_ arguments: [String]) throws {
            let result = try ChildProcess.run(openssl, arguments, workingDirectory: directory)
            try #require(result.status.succeeded, "openssl \(arguments.first ?? ""): \(result.errors)")
        }
        try run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                 "-subj", "/CN=faasten test CA", "-keyout", "ca.key", "-out", "ca.crt"])
        try run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=127.0.0.1",
                 "-keyout", "server.key", "-out", "server.csr"])
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
        try run(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                 "-extfile", "san.ext", "-out", "server.crt"])
        return (directory + "/ca.crt", LocalPostgres.TLSFiles(certificate: directory + "/server.crt", key: directory + "/server.key"))
    }

    @Test func requireUsesTLSAndVerifiesTheServer() async throws {
        let directory = try TemporaryDirectory()
        let (ca, tls) = try Self.certificates(in: directory.path)
        let server = try LocalPostgres(tls: tls)
        defer { server.stop() }
        let url = try server.createDatabase(prefix: "tls")

        let store = try await PostgresStore(location: try PostgresLocation(url: url + "?sslmode=require&sslrootcert=\(ca)"), connections: 1)
        let encrypted = try await store.withConnection { connection in
            try connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: .init(label: "test")).wait()
                .first?.decode(Bool.self)
        }
        #expect(encrypted == true)
        try await store.close()

        // A certificate no trusted authority signed is refused, not used unverified.
        await #expect(throws: (any Error).self) {
            let untrusted = try await PostgresStore(location: try PostgresLocation(url: url + "?sslmode=require"), connections: 1)
            try await untrusted.close()
        }
    }
}
