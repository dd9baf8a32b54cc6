import HTTPTypes
import Hummingbird

/// The headers every console response carries: a Content-Security-Policy that allows
/// only the console's own script and style sheet (no inline script or style, no
/// plug-ins, no framing), and the browser protections that go with it.
///
/// ```swift
/// router.group("console").add(middleware: ConsoleHeadersMiddleware()).get("fs") { … }
/// ```
struct ConsoleHeadersMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    /// Scripts, styles, images and requests only from this origin; forms only to it;
    /// nothing may frame a console page.
    static let contentSecurityPolicy = [
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
        "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    static let headers: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!: contentSecurityPolicy,
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        // Not `no-referrer`: with it, browsers send `Origin: null` on the console's own forms.
        HTTPField.Name("Referrer-Policy")!: "same-origin",
        HTTPField.Name("Cross-Origin-Opener-Policy")!: "same-origin",
        HTTPField.Name("Cross-Origin-Resource-Policy")!: "same-origin",
        HTTPField.Name("Permissions-Policy")!: "camera=(), microphone=(), geolocation=()",
    ]

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        // A response that set its own (a download's sandbox) keeps it.
        for field in Self.headers where response.headers[field.name] == nil { response.headers[field.name] = field.value }
        // Pages show what the person may see now; a shared or later reader of the cache may not.
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
