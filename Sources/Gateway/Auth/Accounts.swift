import Crypto
import FileSystem
import Foundation
import HTTPTypes
import JSONValues
import JWTKit
import Labels
import Store

/// Accounts, sessions and tokens: registration, login with rate limits, refresh,
/// logout, delegation, and the checks every authenticated request goes through.
public final class Accounts: Sendable {
    let store: any Store
    let fileSystem: FileSystem
    let keys: SigningKeys
    let passwords: Passwords
    let audit: AuditLog
    let configuration: GatewayConfiguration
    let attemptsByName: RateLimiter
    let attemptsByAddress: RateLimiter
    private let status = StatusCache()
    /// Tokens whose signature was checked: the same bytes verify the same way until
    /// they expire (revocation and the account's state are checked on every request).
    private let verified = VerifiedTokens()

    init(fileSystem: FileSystem, keys: SigningKeys, audit: AuditLog, configuration: GatewayConfiguration) {
        store = fileSystem.store
        self.fileSystem = fileSystem
        self.keys = keys
        self.audit = audit
        self.configuration = configuration
        passwords = Passwords(cost: configuration.bcryptCost)
        attemptsByName = RateLimiter(limit: configuration.loginAttemptsPerName, window: .seconds(300))
        attemptsByAddress = RateLimiter(limit: configuration.loginAttemptsPerAddress, window: .seconds(60))
    }

    // MARK: Names and passwords

    /// Names that would be confusing or dangerous as principals.
    var reserved: Set<String> { ["faasten", "root", "system", "anonymous", configuration.adminName] }

    static func validate(name: String) throws(APIError) {
        let bytes = Array(name.utf8)
        let allowed: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
        guard (1...64).contains(bytes.count), bytes.allSatisfy(allowed), let first = bytes.first, first != 0x2D, first != 0x5F, first != 0x2E
        else {
            throw .badRequest("name must be 1-64 characters of a-z, 0-9, '-', '_' and '.', starting with a letter or digit")
        }
    }

    static func validate(password: String) throws(APIError) {
        guard (8...1024).contains(password.utf8.count) else { throw .badRequest("password must be 8 to 1024 bytes long") }
    }

    // MARK: Registration and login

    /// Creates an account and its home facet `home:<name,name>`.
    public func register(name: String, password: String, admin: Bool = false, allowReserved: Bool = false) async throws(APIError) -> AccountRow {
        try Self.validate(name: name)
        try Self.validate(password: password)
        guard allowReserved || !reserved.contains(name) else { throw .conflict("the name \(name) is reserved") }
        let hash: String
        do {
            hash = try await passwords.hash(password)
        } catch {
            throw .unavailable("the server is shutting down")
        }
        let principal: Principal
        do {
            principal = try Principal(parsing: name)
        } catch {
            throw .badRequest("name: \(error)")
        }
        let row = AccountRow(name: name, passwordHash: hash, admin: admin, createdAt: Date().timeIntervalSince1970)
        // The account and its home are one transaction: a refused registration leaves neither.
        let created: Bool
        do {
            created = try await fileSystem.addUser(principal) { transaction in
                guard try transaction.account(name) == nil else { return false }
                try transaction.saveAccount(row)
                return true
            }
        } catch {
            throw APIError.from(error)
        }
        guard created else { throw .conflict("the name \(name) is taken") }
        audit.record(AuditEvent(principal: name, action: "register", object: name))
        return row
    }

    /// A session for `name`, after the rate limits and the password check.
    public func login(name: String, password: String, address: String) async throws(APIError) -> Session {
        if let wait = await attemptsByAddress.attempt(address) {
            throw .rateLimited("too many login attempts from this address; retry in \(wait) s", retryAfter: wait)
        }
        if let wait = await attemptsByName.attempt(name) {
            throw .rateLimited("too many login attempts for \(name); retry in \(wait) s", retryAfter: wait)
        }
        let account = try await storage { try await self.store.transaction(.read) { try $0.account(name) } }
        let matches: Bool
        do {
            matches = try await passwords.verify(password, against: account?.passwordHash)
        } catch {
            throw .unavailable("the server is shutting down")
        }
        guard let account, matches else {
            audit.record(AuditEvent(principal: name, action: "login_failed", object: name, detail: "from \(address)"))
            throw .unauthorized("wrong name or password")
        }
        guard !account.disabled else { throw .forbidden("the account \(name) is disabled; ask an administrator") }
        await attemptsByName.reset(name)
        audit.record(AuditEvent(principal: name, action: "login", object: name, detail: "from \(address)"))
        return try await session(for: account)
    }

    /// A new session for the refresh token's account; the refresh token is used up.
    public func refresh(_ refreshToken: String) async throws(APIError) -> Session {
        let id = Self.digest(refreshToken)
        let now = Date().timeIntervalSince1970
        let used = try await storage { try await self.store.transaction(.write) { try $0.takeSession(id) } }
        guard let used, used.expiresAt > now else { throw .unauthorized("the refresh token is unknown, used or expired; log in again") }
        let account = try await storage { try await self.store.transaction(.read) { try $0.account(used.account) } }
        guard let account, !account.disabled else { throw .unauthorized("the account is disabled or deleted") }
        return try await session(for: account)
    }

    /// Ends the caller's token and, if given, its refresh session.
    public func logout(_ caller: Caller, refreshToken: String?) async throws(APIError) {
        guard let claims = caller.claims else { throw .unauthorized("log out needs a token") }
        let now = Date().timeIntervalSince1970
        let expires = claims.exp.value.timeIntervalSince1970
        try await storage {
            try await self.store.transaction(.write) { transaction in
                try transaction.revokeToken(claims.jti.value, expiresAt: expires, now: now)
                if let refreshToken { _ = try transaction.takeSession(Self.digest(refreshToken)) }
            }
        }
        status.forget(tokenID: claims.jti.value)
        audit.record(AuditEvent(principal: caller.name, action: "logout", object: caller.name))
    }

    /// A token for a privilege the caller's implies, expiring no later than the caller's.
    public func delegate(_ caller: Caller, privilege: Component, expiresIn: Int?) async throws(APIError) -> (token: String, expiresAt: Double) {
        guard let claims = caller.claims, let principal = caller.principal else {
            throw .unauthorized("delegation needs a token: log in first")
        }
        do {
            try SecurityContext.checkDelegate(held: caller.privilege, wanted: privilege, for: "a delegated token")
        } catch {
            throw .refused(error, labels: ["privilege": caller.privilege.description, "requested": privilege.description])
        }
        let now = Date().timeIntervalSince1970
        let callerExpiry = claims.exp.value.timeIntervalSince1970
        let expiresAt = min(callerExpiry, expiresIn.map { now + Double($0) } ?? callerExpiry)
        let token = try await sign(principal: principal, privilege: Privilege(privilege), expiresAt: expiresAt, kind: "delegated")
        audit.record(
            AuditEvent(
                principal: caller.privilege.description, action: "delegate", object: principal,
                labels: ["privilege": caller.privilege.description, "delegated": privilege.description]))
        return (token, expiresAt)
    }

    // MARK: Authentication

    /// The caller a request's `Authorization` header names. No header: anonymous. A
    /// header that does not verify is refused, never taken as anonymous.
    public func authenticate(_ authorization: String?) async throws(APIError) -> Caller {
        guard let authorization else { return .anonymous }
        let parts = authorization.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw .unauthorized("the Authorization header must be 'Bearer <token>'")
        }
        let token = String(parts[1])
        let claims: AccessClaims
        do {
            if let known = verified.get(token), known.exp.value > Date() {
                claims = known
            } else {
                claims = try await keys.verify(token, as: AccessClaims.self)
                verified.put(token, claims)
            }
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw .unauthorized("the token has expired; refresh it or log in again")
        } catch let error as TokenHeaderError {
            throw .unauthorized("the token is not valid: \(error); log in again")
        } catch {
            throw .unauthorized("the token is not valid (bad signature, unknown key or malformed); log in again")
        }
        let privilege: Privilege
        do {
            privilege = Privilege(try Component(parsing: claims.priv))
        } catch {
            throw .unauthorized("the token's privilege does not parse")
        }
        let account = try await accountStatus(claims.sub.value, tokenID: claims.jti.value)
        guard let account else { throw .unauthorized("the token's account no longer exists") }
        guard !account.disabled else { throw .unauthorized("the account \(account.name) is disabled") }
        guard !account.revoked else { throw .unauthorized("the token was revoked (logged out); log in again") }
        // A delegated token never administers, even one delegated with the full privilege.
        let caller = Caller(principal: claims.sub.value, privilege: privilege, claims: claims, admin: false)
        guard account.admin, claims.kind == "login", caller.actsAsWholeAccount else { return caller }
        return Caller(principal: claims.sub.value, privilege: privilege, claims: claims, admin: true)
    }

    /// The caller if an administrator, else 403.
    func requireAdmin(_ caller: Caller) throws(APIError) {
        guard caller.claims != nil else { throw .unauthorized("administration needs the admin's token") }
        guard caller.admin else { throw .forbidden("only the administrator may do this") }
    }

    private func accountStatus(_ name: String, tokenID: String) async throws(APIError) -> StatusCache.Status? {
        let now = Date().timeIntervalSince1970
        if let cached = status.get(name, tokenID: tokenID, now: now) { return cached.exists ? cached : nil }
        let (account, revoked) = try await storage {
            try await self.store.transaction(.read) { transaction in
                (try transaction.account(name), try transaction.isTokenRevoked(tokenID))
            }
        }
        let found = StatusCache.Status(
            name: name, exists: account != nil, disabled: account?.disabled ?? true, admin: account?.admin ?? false, revoked: revoked)
        status.put(found, tokenID: tokenID, now: now)
        return account == nil ? nil : found
    }

    // MARK: Administration

    public func users() async throws(APIError) -> [AccountRow] {
        try await storage { try await self.store.transaction(.read) { try $0.accounts() } }
    }

    /// Disables or enables an account; a disabled account's tokens stop working.
    public func setDisabled(_ name: String, _ disabled: Bool, by caller: Caller) async throws(APIError) -> AccountRow {
        let row = try await storage {
            try await self.store.transaction(.write) { transaction -> AccountRow? in
                guard var account = try transaction.account(name) else { return nil }
                account.disabled = disabled
                try transaction.saveAccount(account)
                if disabled { try transaction.deleteSessions(account: name) }
                return account
            }
        }
        guard let row else { throw .notFound("no account named \(name)") }
        status.forget(name: name)
        audit.record(AuditEvent(principal: caller.name, action: disabled ? "user_disable" : "user_enable", object: name))
        return row
    }

    public func resetPassword(_ name: String, to password: String, by caller: Caller) async throws(APIError) {
        try Self.validate(password: password)
        let hash: String
        do {
            hash = try await passwords.hash(password)
        } catch {
            throw .unavailable("the server is shutting down")
        }
        let found = try await storage {
            try await self.store.transaction(.write) { transaction -> Bool in
                guard var account = try transaction.account(name) else { return false }
                account.passwordHash = hash
                try transaction.saveAccount(account)
                try transaction.deleteSessions(account: name)
                return true
            }
        }
        guard found else { throw .notFound("no account named \(name)") }
        audit.record(AuditEvent(principal: caller.name, action: "password_reset", object: name))
    }

    public func delete(_ name: String, by caller: Caller) async throws(APIError) {
        guard name != configuration.adminName else { throw .conflict("the administrator's account cannot be deleted") }
        let deleted = try await storage { try await self.store.transaction(.write) { try $0.deleteAccount(name) } }
        guard deleted else { throw .notFound("no account named \(name)") }
        status.forget(name: name)
        audit.record(AuditEvent(principal: caller.name, action: "user_delete", object: name))
    }

    // MARK: Sessions

    /// A login's answer: an access token and a refresh token.
    public struct Session: Sendable {
        public let token: String
        public let expiresAt: Double
        public let refreshToken: String
        public let refreshExpiresAt: Double
        public let principal: String
        public let privilege: String

        var json: JSONValue {
            .object([
                "token": .string(token), "token_type": "Bearer", "expires_at": .number(expiresAt.rounded(.down)),
                "refresh_token": .string(refreshToken), "refresh_expires_at": .number(refreshExpiresAt.rounded(.down)),
                "principal": .string(principal), "privilege": .string(privilege),
            ])
        }
    }

    private func session(for account: AccountRow) async throws(APIError) -> Session {
        let now = Date().timeIntervalSince1970
        let privilege = try Caller.accountPrivilege(account.name)
        let expiresAt = now + Double(configuration.tokenLifetime.components.seconds)
        let token = try await sign(principal: account.name, privilege: privilege, expiresAt: expiresAt, kind: "login")
        var random = SystemRandomNumberGenerator()
        let refresh = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let refreshExpiresAt = now + Double(configuration.refreshLifetime.components.seconds)
        let row = SessionRow(id: Self.digest(refresh), account: account.name, expiresAt: refreshExpiresAt)
        try await storage { try await self.store.transaction(.write) { try $0.insertSession(row) } }
        return Session(
            token: token, expiresAt: expiresAt, refreshToken: refresh, refreshExpiresAt: refreshExpiresAt, principal: account.name,
            privilege: privilege.description)
    }

    private func sign(principal: String, privilege: Privilege, expiresAt: Double, kind: String) async throws(APIError) -> String {
        let claims = AccessClaims(
            sub: SubjectClaim(value: principal), priv: privilege.description,
            exp: ExpirationClaim(value: Date(timeIntervalSince1970: expiresAt)), iat: IssuedAtClaim(value: Date()),
            jti: IDClaim(value: UUID().uuidString.lowercased()), kind: kind)
        do {
            return try await keys.sign(claims)
        } catch {
            throw APIError(.internalServerError, "internal", "cannot sign a token: \(error)")
        }
    }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    private func storage<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws(APIError) -> T {
        do {
            return try await body()
        } catch {
            throw APIError(.internalServerError, "internal", "the store failed: \(error)")
        }
    }
}

/// Accounts' status for one second, so that a token is not two store reads per
/// request; an administrator's change in this process takes effect at once.
final class StatusCache: @unchecked Sendable {
    struct Status: Sendable {
        let name: String
        let exists: Bool
        let disabled: Bool
        let admin: Bool
        let revoked: Bool
    }

    private let lock = NSLock()
    private var entries: [String: (status: Status, at: Double)] = [:]

    func get(_ name: String, tokenID: String, now: Double) -> Status? {
        lock.withLock {
            guard let entry = entries[tokenID], now - entry.at < 1 else { return nil }
            return entry.status
        }
    }

    func put(_ status: Status, tokenID: String, now: Double) {
        lock.withLock {
            if entries.count > 50_000 { entries = entries.filter { now - $0.value.at < 1 } }
            entries[tokenID] = (status, now)
        }
    }

    func forget(name: String) {
        lock.withLock { entries = entries.filter { $0.value.status.name != name } }
    }

    func forget(tokenID: String) {
        lock.withLock { entries[tokenID] = nil }
    }
}

/// Signature checks already made, by token text (ES256 verification is the dearest
/// step of authenticating a request). Bounded: cleared when full.
final class VerifiedTokens: @unchecked Sendable {
    private let lock = NSLock()
    private var claims: [String: AccessClaims] = [:]

    func get(_ token: String) -> AccessClaims? {
        lock.withLock { claims[token] }
    }

    func put(_ token: String, _ verified: AccessClaims) {
        lock.withLock {
            if claims.count >= 10_000 { claims.removeAll(keepingCapacity: true) }
            claims[token] = verified
        }
    }
}
