import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One saved session: what `POST /v1/login` (or `/v1/delegate` with `--save-as`) returned.
public struct SavedSession: Codable, Sendable, Equatable {
    public var token: String
    public var refreshToken: String?
    /// Seconds since the epoch.
    public var expiresAt: Double?
    public var refreshExpiresAt: Double?
    public var principal: String?
    /// When `fstn login` saved it; the session with the latest is the default user.
    /// Absent for delegated tokens, so that saving one never changes the default.
    public var loggedInAt: Double?

    public init(
        token: String, refreshToken: String? = nil, expiresAt: Double? = nil, refreshExpiresAt: Double? = nil,
        principal: String? = nil, loggedInAt: Double? = nil
    ) {
        self.token = token
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.refreshExpiresAt = refreshExpiresAt
        self.principal = principal
        self.loggedInAt = loggedInAt
    }

    /// Whether the access token has expired, or will within `margin` seconds.
    public func isExpired(at now: Date = Date(), margin: Double = 0) -> Bool {
        guard let expiresAt else { return false }
        return now.timeIntervalSince1970 + margin >= expiresAt
    }

    /// Whether a refresh can be attempted: there is a refresh token and it has not expired.
    public func canRefresh(at now: Date = Date()) -> Bool {
        guard refreshToken != nil else { return false }
        guard let refreshExpiresAt else { return true }
        return now.timeIntervalSince1970 < refreshExpiresAt
    }

    enum CodingKeys: String, CodingKey {
        case token
        case refreshToken = "refresh_token"
        case expiresAt = "expires_at"
        case refreshExpiresAt = "refresh_expires_at"
        case principal
        case loggedInAt = "logged_in_at"
    }
}

/// The credentials file: sessions keyed by server, then by user name.
///
/// ```json
/// {"http://127.0.0.1:8080": {"alice": {"token": "…", "refresh_token": "…", "expires_at": 1767225600, …}}}
/// ```
///
/// It holds bearer tokens, so it is created with mode 0600 in a directory created with
/// mode 0700, and replaced atomically (a new 0600 file renamed over the old one) so a
/// crash never leaves half a file or a moment when the tokens are readable by others.
public struct Credentials: Sendable, Equatable {
    public var servers: [String: [String: SavedSession]]

    public init(servers: [String: [String: SavedSession]] = [:]) {
        self.servers = servers
    }

    public func session(server: String, user: String) -> SavedSession? {
        servers[server]?[user]
    }

    public mutating func save(_ session: SavedSession, server: String, user: String) {
        servers[server, default: [:]][user] = session
    }

    @discardableResult
    public mutating func remove(server: String, user: String) -> SavedSession? {
        let removed = servers[server]?.removeValue(forKey: user)
        if servers[server]?.isEmpty == true { servers[server] = nil }
        return removed
    }

    /// The user of the most recent `fstn login` at `server`; if no session was saved by a
    /// login, the only saved session, if there is exactly one.
    public func defaultUser(server: String) -> String? {
        guard let users = servers[server] else { return nil }
        let logins = users.compactMap { name, session in session.loggedInAt.map { (name, $0) } }
        if let latest = logins.max(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 > $1.0) }) { return latest.0 }
        return users.count == 1 ? users.first?.key : nil
    }

    // MARK: The file

    /// Reads the file; a missing file is no credentials.
    public static func load(from file: URL) throws(FstnError) -> Credentials {
        guard let data = FileManager.default.contents(atPath: file.path) else { return Credentials() }
        do {
            return Credentials(servers: try JSONDecoder().decode([String: [String: SavedSession]].self, from: data))
        } catch {
            throw FstnError(
                "\(file.path) is not a credentials file: \(error)", next: "remove it and run `fstn login NAME` again")
        }
    }

    /// Writes the file atomically with mode 0600, creating its directory with mode 0700.
    public func write(to file: URL) throws(FstnError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(servers)
        } catch {
            throw FstnError("cannot encode the credentials: \(error)", next: "please report this bug")
        }
        let directory = file.deletingLastPathComponent().path
        try Self.createPrivateDirectory(directory)
        let temporary = directory + "/.credentials-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        // O_EXCL: never write tokens into a file someone else prepared.
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Self.systemError("cannot create \(temporary)") }
        // The umask can only narrow 0600, but say it exactly rather than rely on that.
        fchmod(descriptor, 0o600)
        var written = 0
        let ok = data.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let n = Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += n
            }
            return fsync(descriptor) == 0
        }
        let writeErrno = errno
        close(descriptor)
        guard ok else {
            unlink(temporary)
            errno = writeErrno
            throw Self.systemError("cannot write \(temporary)")
        }
        guard rename(temporary, file.path) == 0 else {
            let error = Self.systemError("cannot replace \(file.path)")
            unlink(temporary)
            throw error
        }
    }

    /// Runs `body` holding an exclusive lock on the credentials' directory, so that two
    /// `fstn` processes do not both spend the same single-use refresh token.
    public static func withLock<T>(on file: URL, _ body: () async throws -> T) async throws -> T {
        let directory = file.deletingLastPathComponent().path
        try createPrivateDirectory(directory)
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw systemError("cannot open \(directory)") }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            if errno != EINTR { throw systemError("cannot lock \(directory)") }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try await body()
    }

    static func createPrivateDirectory(_ path: String) throws(FstnError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw FstnError("\(path) exists and is not a directory", next: "move it away") }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        do {
            // The parents (e.g. ~/.config) get the usual mode; only ours is private.
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw FstnError("cannot create \(parent): \(error)", next: "check its permissions, or set XDG_CONFIG_HOME")
        }
        if mkdir(path, 0o700) != 0 {
            if errno == EEXIST { return }
            throw systemError("cannot create \(path)")
        }
        chmod(path, 0o700)
    }

    static func systemError(_ what: String) -> FstnError {
        FstnError("\(what): \(String(cString: strerror(errno)))", next: "check the permissions of that directory")
    }
}
