/// Rows of the gateway: accounts, refresh sessions, revoked tokens, the audit log,
/// and the index of triggers with their deliveries.
/// Times are seconds since 1970.

/// A user account. The principal is the name.
public struct AccountRow: Sendable, Hashable {
    public var name: String
    /// A bcrypt hash (of the password's SHA-256, see the gateway's `Passwords`).
    public var passwordHash: String
    public var admin: Bool
    public var disabled: Bool
    public var createdAt: Double

    public init(name: String, passwordHash: String, admin: Bool = false, disabled: Bool = false, createdAt: Double) {
        self.name = name
        self.passwordHash = passwordHash
        self.admin = admin
        self.disabled = disabled
        self.createdAt = createdAt
    }
}

/// A refresh token's session: stored under the token's SHA-256, never the token.
public struct SessionRow: Sendable, Hashable {
    public var id: String
    public var account: String
    public var expiresAt: Double

    public init(id: String, account: String, expiresAt: Double) {
        self.id = id
        self.account = account
        self.expiresAt = expiresAt
    }
}

/// One audited action.
public struct AuditRow: Sendable, Hashable {
    /// Assigned by the store (0 before it is appended).
    public var id: Int64
    public var at: Double
    /// Who acted (a privilege or principal, as text; `T` for anonymous).
    public var principal: String
    /// What was done, e.g. `login`, `declassify`.
    public var action: String
    /// What it was done to: a path, a name, an invocation id.
    public var object: String
    /// The labels involved, as a JSON object of label texts.
    public var labels: String
    public var detail: String

    public init(id: Int64 = 0, at: Double, principal: String, action: String, object: String, labels: String = "{}", detail: String = "") {
        self.id = id
        self.at = at
        self.principal = principal
        self.action = action
        self.object = object
        self.labels = labels
        self.detail = detail
    }
}

/// Which audit rows to return: every set field must match; newest first.
public struct AuditQuery: Sendable, Hashable {
    public var principal: String?
    public var action: String?
    public var object: String?
    public var since: Double?
    public var until: Double?
    public var limit: Int

    public init(
        principal: String? = nil, action: String? = nil, object: String? = nil, since: Double? = nil, until: Double? = nil,
        limit: Int = 100
    ) {
        self.principal = principal
        self.action = action
        self.object = object
        self.since = since
        self.until = until
        self.limit = limit
    }
}

/// The index entry of a trigger; its definition (gate, privilege, secret) is a file in
/// the labeled file system at `path`, readable only by its owner.
public struct TriggerRow: Sendable, Hashable {
    public var id: String
    public var owner: String
    public var name: String
    /// The FS path of the definition file.
    public var path: String
    /// `github`, `generic` or `schedule`.
    public var source: String
    /// For schedules: the cron expression, its time zone and the next tick.
    public var schedule: String?
    public var timezone: String
    public var nextRun: Double?
    public var createdAt: Double

    public init(
        id: String, owner: String, name: String, path: String, source: String, schedule: String? = nil, timezone: String = "UTC",
        nextRun: Double? = nil, createdAt: Double
    ) {
        self.id = id
        self.owner = owner
        self.name = name
        self.path = path
        self.source = source
        self.schedule = schedule
        self.timezone = timezone
        self.nextRun = nextRun
        self.createdAt = createdAt
    }
}

/// One event delivered to a trigger, and the invocation it started.
public struct DeliveryRow: Sendable, Hashable {
    public var trigger: String
    public var delivery: String
    public var event: String
    public var at: Double
    public var invocation: String?
    /// `ping`, `queued` (submitted; the invocation record says more) or `failed`.
    public var outcome: String
    public var detail: String

    public init(
        trigger: String, delivery: String, event: String, at: Double, invocation: String? = nil, outcome: String, detail: String = ""
    ) {
        self.trigger = trigger
        self.delivery = delivery
        self.event = event
        self.at = at
        self.invocation = invocation
        self.outcome = outcome
        self.detail = detail
    }
}
