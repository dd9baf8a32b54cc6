import FileSystem
import Foundation
import Hummingbird
import Labels
import Synchronization

/// What a response shows and to whom: a route that read labeled data records the label
/// its answer ended at, and ``ReleaseMiddleware`` applies the release rule to it. A
/// route only records; it never decides whether its answer may be shown.
public final class ResponseRelease: Sendable {
    /// The label an answer ended at, the privilege it is shown to, and, for an
    /// invocation that ran, its id (its effects stand even if its result is withheld).
    struct Shown: Sendable {
        var label: Label
        var privilege: Privilege
        /// What the label is called in a refusal: `end` (a file-system request) or `result`.
        var role: String
        var invocation: String?
    }

    private let shown = Mutex<Shown?>(nil)

    init() {}

    /// Records the label an answer to someone holding `privilege` ended at.
    func record(_ label: Label, to privilege: Privilege, role: String = "end", invocation: String? = nil) {
        shown.withLock { $0 = Shown(label: label, privilege: privilege, role: role, invocation: invocation) }
    }

    var recorded: Shown? { shown.withLock { $0 } }
}

/// **Release rule**, applied once to every answer: if the route recorded a label
/// (``ResponseRelease``), the answer — result or error — is shown only if the release
/// check passes (``ReleaseCheck/check(_:to:)``); otherwise it is replaced by a refusal
/// that names only the labels. Every answer carries `X-Faasten-End-Label`, and one of
/// an invocation that ran `X-Faasten-Invocation`.
struct ReleaseMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws
        -> Response
    {
        let outcome: Result<Response, any Error>
        do {
            outcome = .success(try await next(request, context))
        } catch {
            outcome = .failure(error)
        }
        guard let shown = context.release.recorded else { return try outcome.get() }
        let end = shown.label.description
        let labels = [shown.role: end, "privilege": shown.privilege.description]
        do {
            try ReleaseCheck.check(shown.label, to: shown.privilege)
        } catch {
            // The function ran: its effects stand, only its result is withheld.
            var refusal = shown.invocation.map { Gateway.withheld(error, invocation: $0, labels: labels) } ?? .refused(error, labels: labels)
            Self.stamp(&refusal.headers, shown)
            throw refusal
        }
        switch outcome {
        case var .success(response):
            Self.stamp(&response.headers, shown)
            return response
        case let .failure(error):
            var apiError: APIError
            if let error = error as? APIError {
                apiError = error
            } else if let error = error as? FSError {
                apiError = .from(error)
            } else {
                throw error
            }
            Self.stamp(&apiError.headers, shown)
            throw apiError
        }
    }

    private static func stamp(_ headers: inout HTTPFields, _ shown: ResponseRelease.Shown) {
        headers[.faastenEndLabel] = shown.label.description
        if let invocation = shown.invocation { headers[.faastenInvocation] = invocation }
    }
}
