import Crypto
import Foundation
import Store

/// Data keys, wrapped by the master key, and the sealing of bytes at rest with them
/// (envelope encryption): the store holds only wrapped keys, so rotating the master key
/// re-wraps a few rows and re-encrypts no data.
///
/// ```swift
/// let keys = try await KeyRing.open(store: store, master: .parse(nil, dataDirectory: dir))
/// let sealed = try keys.seal(Array("secret".utf8), binding: Array("object 42 file T,T v1".utf8))
/// let plain = try keys.open(sealed, binding: Array("object 42 file T,T v1".utf8), what: "object 42")
/// ```
///
/// A sealed value is AES-256-GCM under the current data key, its associated data the
/// caller's `binding` (what the value belongs to: an object's id, kind, label and
/// version): a value moved to another row, relabelled or rolled back does not open.
public final class KeyRing: @unchecked Sendable {
    /// The table of wrapped data keys, owned by this module.
    public static let schema = Schema(
        component: "keys",
        migrations: [
            Migration(
                version: 1, name: "wrapped data keys",
                sqlite: ["CREATE TABLE data_keys (id TEXT PRIMARY KEY, wrapped BLOB NOT NULL, created_at REAL NOT NULL, retired_at REAL)"],
                postgres: [
                    """
                    CREATE TABLE data_keys (
                        id TEXT PRIMARY KEY, wrapped BYTEA NOT NULL, created_at DOUBLE PRECISION NOT NULL,
                        retired_at DOUBLE PRECISION)
                    """
                ])
        ])

    /// Where the master key came from.
    public let source: MasterKeySource
    private let store: any Store
    private let master: SymmetricKey
    private let onEvent: (@Sendable (KeyEvent) -> Void)?
    private let lock = NSLock()
    private var keys: [String: SymmetricKey] = [:]
    private var rows: [DataKeyRow] = []
    private var currentID: String
    private var namingKey: SymmetricKey?

    private init(
        source: MasterKeySource, store: any Store, master: SymmetricKey, rows: [DataKeyRow], keys: [String: SymmetricKey],
        onEvent: (@Sendable (KeyEvent) -> Void)?
    ) {
        self.source = source
        self.store = store
        self.master = master
        self.rows = rows
        self.keys = keys
        self.onEvent = onEvent
        currentID = Self.current(rows)
    }

    // MARK: Opening

    /// The key ring of `store` under the master key from `source`. At first start (no
    /// data keys yet) a file source without its file gets a new master key, and the
    /// first data key is made. A master key that does not open the stored keys, or a
    /// missing one when keys exist, throws and changes nothing.
    /// `beforeFirstKey` runs when the store has no data keys yet, before anything is
    /// made (the file system refuses there if it finds sealed values whose keys are gone).
    /// ``createdFirstKey`` says whether this call made the first data key.
    public static func open(
        store: any Store, master source: MasterKeySource, onEvent: (@Sendable (KeyEvent) -> Void)? = nil,
        beforeFirstKey: (@Sendable () async throws(KeyError) -> Void)? = nil
    ) async throws(KeyError) -> KeyRing {
        try prepare(store)
        var rows = try await load(store)
        if rows.isEmpty, let beforeFirstKey { try await beforeFirstKey() }
        let master = try await masterKey(source, opening: rows, store: store, onEvent: onEvent)
        var keys = try unwrapAll(rows, with: master, source: source)
        if rows.isEmpty {
            let (row, key) = try newDataKey(wrappedBy: master)
            try await write(store) { try insert(row, in: $0) }
            rows = [row]
            keys[row.id] = key
            onEvent?(KeyEvent(action: "key_data_create", keyID: row.id, detail: "the first data key"))
            let ring = KeyRing(source: source, store: store, master: master, rows: rows, keys: keys, onEvent: onEvent)
            ring.createdFirstKey = true
            return ring
        }
        return KeyRing(source: source, store: store, master: master, rows: rows, keys: keys, onEvent: onEvent)
    }

    /// Whether opening made the store's first data key (a new store, or one from before
    /// encryption at rest, whose values are still to be sealed).
    public private(set) var createdFirstKey = false

    /// Whether `bytes` has the form of a sealed value (it may still not open).
    public static func isSealed(_ bytes: [UInt8]) -> Bool {
        bytes.count > 3 && bytes[0] == magic[0] && bytes[1] == magic[1] && bytes[2] == magic[2]
    }

    /// Reports what a caller found tampered with outside ``open(_:binding:what:)``.
    public func reportTampering(_ what: String) {
        onEvent?(KeyEvent(action: "key_tamper_detected", keyID: "", detail: what))
    }

    /// The master key from `source`, finishing or undoing a master rotation a crash
    /// interrupted (a file source's `PATH.new`), and making the file at first start.
    private static func masterKey(
        _ source: MasterKeySource, opening rows: [DataKeyRow], store: any Store, onEvent: (@Sendable (KeyEvent) -> Void)?
    ) async throws(KeyError) -> SymmetricKey {
        if case let .file(path, create) = source {
            let pending = path + ".new"
            if FileManager.default.fileExists(atPath: pending) {
                let old = try source.load()
                if let old, let first = rows.first, (try? unwrap(first, with: old)) != nil {
                    // The rotation never committed: the old key still opens the store.
                    unlink(pending)
                } else {
                    let new = try MasterKeySource.readFile(pending)
                    guard let first = rows.first, (try? unwrap(first, with: new)) != nil else {
                        throw .wrongMasterKey("neither \(path) nor \(pending) opens the store's data keys; nothing was changed")
                    }
                    guard rename(pending, path) == 0 else {
                        throw .badSource("cannot finish the master key rotation: rename \(pending) to \(path) failed")
                    }
                    onEvent?(KeyEvent(action: "key_master_rotate", keyID: "", detail: "finished after an interruption"))
                }
            }
            if let key = try source.load() { return key }
            guard rows.isEmpty, create else {
                throw .wrongMasterKey(
                    "the store has \(rows.count) data key(s) wrapped by a master key, and \(path) does not exist: "
                        + "restore the key file or pass --master-key; nothing was changed")
            }
            let key = SymmetricKey(size: .bits256)
            do {
                try MasterKeySource.writeFile(key, to: path)
            } catch {
                // Another part of the platform starting at the same time made it first.
                if let made = try source.load() { return made }
                throw error
            }
            onEvent?(KeyEvent(action: "key_master_create", keyID: "", detail: "in \(path)"))
            return key
        }
        guard let key = try source.load() else { throw .badSource("\(source) holds no key") }
        return key
    }

    private static func unwrapAll(_ rows: [DataKeyRow], with master: SymmetricKey, source: MasterKeySource) throws(KeyError)
        -> [String: SymmetricKey]
    {
        var keys: [String: SymmetricKey] = [:]
        for (index, row) in rows.enumerated() {
            do {
                keys[row.id] = try unwrap(row, with: master)
            } catch {
                // The first key not opening is a wrong master key; a later one, a row
                // replaced in the database.
                if index == 0 {
                    throw .wrongMasterKey("the master key from \(source) does not open the store's data keys; nothing was changed")
                }
                throw .tampered("the wrapped data key \(row.id) does not open with the master key that opens the others")
            }
        }
        return keys
    }

    // MARK: Sealing

    /// `plaintext` sealed under the current data key, bound to `binding`.
    public func seal(_ plaintext: [UInt8], binding: [UInt8]) throws(KeyError) -> [UInt8] {
        let (id, key) = try sealingKey()
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(plaintext, using: key, authenticating: binding)
        } catch {
            throw .storage("sealing failed: \(error)")
        }
        guard let combined = box.combined else { throw .storage("sealing failed: no combined form") }
        let idBytes = Array(id.utf8)
        return Self.magic + [UInt8(idBytes.count)] + idBytes + Array(combined)
    }

    /// The plaintext of `sealed`, which must have been sealed with `binding`; `what`
    /// names it in the error (and the audit entry) if it does not open. A value sealed
    /// with a data key another process made since is opened after reading the keys
    /// again, through `transaction` when the caller is inside one (never a second,
    /// nested transaction).
    public func open(
        _ sealed: [UInt8], binding: [UInt8], what: @autoclosure () -> String, reading transaction: (any StoreTransaction)? = nil
    ) throws(KeyError) -> [UInt8] {
        guard Self.isSealed(sealed) else {
            throw reportTampering(what(), "it is not a sealed value")
        }
        guard let idBytes = Self.keyID(of: sealed), sealed.count >= idBytes.endIndex + 28 else {
            throw reportTampering(what(), "it is truncated")
        }
        let id = String(decoding: idBytes, as: UTF8.self)
        guard let key = try key(id, reading: transaction) else {
            throw reportTampering(what(), "it names the data key \(id), which the store does not have")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed[idBytes.endIndex...])
            return Array(try AES.GCM.open(box, using: key, authenticating: binding))
        } catch {
            throw reportTampering(what(), "it does not open with its key and binding (changed, moved, relabelled or rolled back)")
        }
    }

    // MARK: Moving values to the current key

    /// Whether `sealed` was sealed with the data key new values are sealed with.
    public func isSealedWithCurrentKey(_ sealed: [UInt8]) -> Bool {
        guard Self.isSealed(sealed), let id = Self.keyID(of: sealed) else { return false }
        let current = lock.withLock { currentID }
        return id.elementsEqual(current.utf8)
    }

    /// The data key id a sealed value names (after the format bytes), if it is whole.
    private static func keyID(of sealed: [UInt8]) -> ArraySlice<UInt8>? {
        guard sealed.count > magic.count else { return nil }
        let idStart = magic.count + 1
        let idEnd = idStart + Int(sealed[magic.count])
        return sealed.count >= idEnd ? sealed[idStart..<idEnd] : nil
    }

    /// Reads the data keys again, so that a key another process made (`faasten keys
    /// rotate --data`) becomes the one this process seals with.
    public func refresh() async throws(KeyError) {
        try adopt(try await Self.load(store))
    }

    /// Takes `rows` as the store's data keys: unwraps those not yet known, and makes the
    /// newest unretired one current.
    private func adopt(_ rows: [DataKeyRow]) throws(KeyError) {
        var unwrapped: [String: SymmetricKey] = [:]
        for row in rows where lock.withLock({ keys[row.id] }) == nil {
            do {
                unwrapped[row.id] = try Self.unwrap(row, with: master)
            } catch {
                throw .tampered("the wrapped data key \(row.id) does not open with the master key")
            }
        }
        lock.withLock {
            keys.merge(unwrapped) { old, _ in old }
            self.rows = rows
            currentID = Self.current(rows)
        }
    }

    /// Refreshes every `interval` until the task is cancelled: a long-running process
    /// takes up a rotated data key within that time.
    public func keepCurrent(every interval: Duration = .seconds(10)) -> Task<Void, Never> {
        Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                try? await self?.refresh()
            }
        }
    }

    /// Reports a key operation done by a layer above (re-sealing), for the audit log.
    public func report(_ action: String, detail: String) {
        onEvent?(KeyEvent(action: action, keyID: lock.withLock { currentID }, detail: detail))
    }

    // MARK: Keys for layers that seal in their own format (blobs)

    /// The data key new values are sealed with, and its id.
    func sealingKey() throws(KeyError) -> (id: String, key: SymmetricKey) {
        let (id, key) = lock.withLock { (currentID, keys[currentID]) }
        guard let key else { throw .unknownKey(id) }
        return (id, key)
    }

    /// The data key `id`, reading the store again once if another process made it;
    /// nil if the store has none of that id.
    func dataKey(_ id: String) throws(KeyError) -> SymmetricKey? {
        try key(id, reading: nil)
    }

    /// The key blob names are keyed digests under. Derived from the oldest data key,
    /// which data-key rotation retires but never removes, so that identical content
    /// keeps one name across rotations (and a reader of the store cannot confirm a
    /// guess of a blob's content by hashing it).
    func blobNamingKey() throws(KeyError) -> SymmetricKey {
        let (cached, oldest) = lock.withLock { (namingKey, rows.first.flatMap { keys[$0.id] }) }
        if let cached { return cached }
        guard let oldest else { throw .unknownKey(rows.first?.id ?? "(none)") }
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: oldest, info: Array("faasten blob names".utf8), outputByteCount: 32)
        lock.withLock { namingKey = derived }
        return derived
    }

    /// Reports tampering of `what` (the audit log) and returns the error to throw; also
    /// for layers with a format of their own (``SealedBlobStore``).
    func reportTampering(_ what: String, _ reason: String) -> KeyError {
        reportTampering("\(what): \(reason)")
        return .tampered("\(what): \(reason)")
    }

    /// A data key by id, reading the store again once if another process made it since.
    private func key(_ id: String, reading transaction: (any StoreTransaction)?) throws(KeyError) -> SymmetricKey? {
        if let key = lock.withLock({ keys[id] }) { return key }
        let rows: [DataKeyRow]
        do {
            if let transaction {
                rows = try Self.rows(in: transaction)
            } else {
                rows = try store.synchronousTransaction(.read) { try Self.rows(in: $0) }
            }
        } catch {
            throw .storage("\(error)")
        }
        guard rows.contains(where: { $0.id == id }) else { return nil }
        try adopt(rows)
        return lock.withLock { keys[id] }
    }

    // MARK: Rotation

    /// Makes a new data key the one new values are sealed with; the others stay to open
    /// what they sealed. Returns its id.
    @discardableResult
    public func rotateDataKey() async throws(KeyError) -> String {
        let (row, key) = try Self.newDataKey(wrappedBy: master)
        let now = row.createdAt
        try await Self.write(store) { transaction in
            try Self.insert(row, in: transaction)
            _ = try transaction.execute(
                "UPDATE data_keys SET retired_at = ? WHERE id <> ? AND retired_at IS NULL", [.real(now), .text(row.id)])
        }
        let rows = try await Self.load(store)
        lock.withLock {
            keys[row.id] = key
            self.rows = rows
            currentID = Self.current(rows)
        }
        onEvent?(KeyEvent(action: "key_data_rotate", keyID: row.id, detail: "new values are sealed with it"))
        return row.id
    }

    /// Re-wraps every data key of `store` from the master key of `from` to a new one:
    /// `to`'s, or for a file source without `to`, a new key written in place of the old
    /// file (crash-safe: written beside it first, renamed once the store has committed).
    /// No data is re-encrypted.
    public static func rotateMaster(
        store: any Store, from: MasterKeySource, to: MasterKeySource? = nil, onEvent: (@Sendable (KeyEvent) -> Void)? = nil
    ) async throws(KeyError) {
        let ring = try await open(store: store, master: from, onEvent: onEvent)
        let newKey: SymmetricKey
        var pending: (from: String, to: String)?
        switch (from, to) {
        case let (.file(path, _), nil):
            newKey = SymmetricKey(size: .bits256)
            try MasterKeySource.writeFile(newKey, to: path + ".new")
            pending = (path + ".new", path)
        case let (_, target?):
            if case let .file(path, _) = target, !FileManager.default.fileExists(atPath: path) {
                newKey = SymmetricKey(size: .bits256)
                try MasterKeySource.writeFile(newKey, to: path)
            } else {
                guard let key = try target.load() else { throw .badSource("\(target) holds no key") }
                newKey = key
            }
        default:
            throw .badSource("\(from) cannot be rewritten here: give the new master key's source (--new-master-key)")
        }
        let old = ring.master
        do {
            try await write(store) { transaction in
                // Read inside the transaction: a key made meanwhile is re-wrapped too.
                for row in try rows(in: transaction) {
                    let key = try unwrap(row, with: old)
                    _ = try transaction.execute(
                        "UPDATE data_keys SET wrapped = ? WHERE id = ?", [.blob(try wrap(key, id: row.id, with: newKey)), .text(row.id)])
                }
            }
        } catch {
            if let pending { unlink(pending.from) }
            throw error
        }
        if let pending, rename(pending.from, pending.to) != 0 {
            throw .badSource("the store is re-wrapped but \(pending.from) could not replace \(pending.to): rename it by hand")
        }
        onEvent?(KeyEvent(action: "key_master_rotate", keyID: "", detail: "data keys re-wrapped; now from \(to ?? from)"))
    }

    // MARK: Status

    /// The data keys, oldest first, and which one seals new values.
    public var status: KeyStatus {
        lock.withLock { KeyStatus(source: source.description, current: currentID, keys: rows) }
    }

    // MARK: Rows

    static let magic: [UInt8] = [0x46, 0x4B, 0x01]  // "FK", format 1

    private static func prepare(_ store: any Store) throws(KeyError) {
        do {
            try store.prepare(schema)
        } catch {
            throw .storage("\(error)")
        }
    }

    private static func load(_ store: any Store) async throws(KeyError) -> [DataKeyRow] {
        do {
            return try await store.transaction(.read) { try rows(in: $0) }
        } catch {
            throw .storage("\(error)")
        }
    }

    private static func write(_ store: any Store, _ body: @escaping @Sendable (any StoreTransaction) throws -> Void) async throws(KeyError) {
        do {
            try await store.transaction(.write, body)
        } catch let error as KeyError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
    }

    static func rows(in transaction: any StoreTransaction) throws -> [DataKeyRow] {
        try transaction.query("SELECT id, wrapped, created_at, retired_at FROM data_keys ORDER BY created_at, id", []).map { row in
            DataKeyRow(
                id: try row.string(0), wrapped: try row.optionalBytes(1) ?? [], createdAt: try row.double(2),
                retiredAt: try row.optionalDouble(3))
        }
    }

    private static func insert(_ row: DataKeyRow, in transaction: any StoreTransaction) throws {
        _ = try transaction.execute(
            "INSERT INTO data_keys (id, wrapped, created_at) VALUES (?, ?, ?)", [.text(row.id), .blob(row.wrapped), .real(row.createdAt)])
    }

    private static func current(_ rows: [DataKeyRow]) -> String {
        rows.last(where: { $0.retiredAt == nil })?.id ?? rows.last?.id ?? ""
    }

    private static func newDataKey(wrappedBy master: SymmetricKey) throws(KeyError) -> (DataKeyRow, SymmetricKey) {
        let now = Date().timeIntervalSince1970
        var random = SystemRandomNumberGenerator()
        let id = "dk-\(Int(now))-\(String(random.next() as UInt32, radix: 16))"
        let key = SymmetricKey(size: .bits256)
        return (DataKeyRow(id: id, wrapped: try wrap(key, id: id, with: master), createdAt: now, retiredAt: nil), key)
    }

    private static func wrap(_ key: SymmetricKey, id: String, with master: SymmetricKey) throws(KeyError) -> [UInt8] {
        do {
            let box = try key.withUnsafeBytes { try AES.GCM.seal($0, using: master, authenticating: Array("faasten data key \(id)".utf8)) }
            guard let combined = box.combined else { throw KeyError.storage("wrapping failed") }
            return Array(combined)
        } catch let error as KeyError {
            throw error
        } catch {
            throw .storage("wrapping failed: \(error)")
        }
    }

    private static func unwrap(_ row: DataKeyRow, with master: SymmetricKey) throws -> SymmetricKey {
        let box = try AES.GCM.SealedBox(combined: row.wrapped)
        return SymmetricKey(data: try AES.GCM.open(box, using: master, authenticating: Array("faasten data key \(row.id)".utf8)))
    }
}

/// One stored data key, wrapped.
public struct DataKeyRow: Sendable, Hashable {
    public let id: String
    public let wrapped: [UInt8]
    public let createdAt: Double
    /// When a newer key took over sealing (it still opens what it sealed).
    public let retiredAt: Double?

    public init(id: String, wrapped: [UInt8], createdAt: Double, retiredAt: Double?) {
        self.id = id
        self.wrapped = wrapped
        self.createdAt = createdAt
        self.retiredAt = retiredAt
    }
}

/// What `faasten keys status` shows.
public struct KeyStatus: Sendable {
    public let source: String
    public let current: String
    public let keys: [DataKeyRow]
}

/// A key operation, for the audit log.
public struct KeyEvent: Sendable, Hashable {
    /// `key_master_create`, `key_master_rotate`, `key_data_create`, `key_data_rotate`, `key_tamper_detected`.
    public let action: String
    public let keyID: String
    public let detail: String
}
