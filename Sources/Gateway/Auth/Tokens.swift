import Foundation
import HTTPTypes
import JWTKit
import Labels

/// The claims of an access token. `sub` is the account (the principal); `priv` the
/// privilege the token carries: the principal's own for a login, weaker for a
/// delegated token.
struct AccessClaims: JWTPayload {
    var sub: SubjectClaim
    var priv: String
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var jti: IDClaim
    /// `login` or `delegated`.
    var kind: String

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Who is making a request, once its token (if any) is verified.
public struct Caller: Sendable {
    /// The account, or `nil` for an anonymous request.
    public let principal: String?
    /// What the request may act with: `T` when anonymous.
    public let privilege: Privilege
    /// The verified token's claims.
    let claims: AccessClaims?
    /// An administrator acting with the full admin privilege.
    public let admin: Bool

    static let anonymous = Caller(principal: nil, privilege: .none, claims: nil, admin: false)

    var expiresAt: Double? { claims?.exp.value.timeIntervalSince1970 }
    /// For the audit log: the principal, or `T` for anonymous.
    var name: String { principal ?? "T" }

    /// The privilege an account's name stands for (what its login tokens carry). A name
    /// that does not parse was written around the gateway: refused, not trusted.
    static func accountPrivilege(_ name: String) throws(APIError) -> Privilege {
        do {
            return Privilege(Component(try Principal(parsing: name)))
        } catch {
            throw APIError(.internalServerError, "internal", "the stored account name '\(name)' is not a principal: \(error)")
        }
    }

    /// Whether the caller acts with all of its account's privilege (delegation rule):
    /// what managing the account's own things (triggers, administration) needs, so that
    /// a token delegated with part of it cannot.
    var actsAsWholeAccount: Bool {
        guard let principal, let whole = try? Self.accountPrivilege(principal) else { return false }
        return privilege.canDelegate(whole)
    }
}
