import Foundation
import NIOHTTP1
import JSONValues

/// Turns a gateway error response into an ``FstnError``: the server's reason, the details
/// a person needs (a refusal's rule and labels), and what to do next.
public enum ErrorAdvice {
    /// The next step for an invocation id the server does not know (or will not show):
    /// `fstn ls` cannot help, the id can.
    public static let unknownInvocation = [
        "not_found": "check the id: `fstn invoke` and `fstn trigger deliveries` print invocation ids, and only the invoker (or a privilege that speaks for it) may look one up"
    ]
    /// The next step for a trigger id the server does not know.
    public static let unknownTrigger = ["not_found": "check the id: `fstn trigger list` shows your triggers"]

    /// The error for a non-2xx response. `user` is the saved session in use, if any.
    public static func error(for response: APIResponse, request: APIRequest, user: String?) -> FstnError {
        let body = try? JSONValue(decoding: response.body)
        let code = body?["error"]?.string
        let reason =
            body?["reason"]?.string ?? body?["error"]?.string
            ?? "HTTP \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))"
        var details: [String] = []
        if let rule = body?["rule"]?.string { details.append("rule: \(rule)") }
        if case let .object(labels)? = body?["labels"] {
            details.append("labels: " + labels.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.readable)" }.joined(separator: ", "))
        }
        if let functionCode = body?["code"], !functionCode.isNull { details.append("code: \(functionCode.readable)") }
        if let invocation = response.invocation { details.append("invocation: \(invocation)") }
        let next =
            shellExpandedHome(request)
            ?? code.flatMap { request.advice[$0] }
            ?? defaultAdvice(code: code, rule: body?["rule"]?.string, status: response.status, response: response, user: user)
        return FstnError(
            reason, next: next, details: details, exitCode: code == "refused" ? 1 : 2,
            serverError: body.flatMap { $0["error"] == nil ? nil : $0 }, status: response.status)
    }

    /// A hint when the path a request names starts with the home directory: an unquoted
    /// `~` that the shell expanded (`fstn ls ~` sends `/root`, some shells do the same to
    /// `~:photos`), so the server never saw fstn's `~`.
    static func shellExpandedHome(_ request: APIRequest, home: String? = ProcessInfo.processInfo.environment["HOME"]) -> String? {
        guard let home, home.count > 1, let path = request.path.removingPercentEncoding else { return nil }
        for prefix in ["/v1/fs/", "/v1/blobs/", "/v1/invoke/"] where path.hasPrefix(prefix) {
            let fsPath = path.dropFirst(prefix.count)
            if fsPath == home || fsPath.hasPrefix(home + ":") || fsPath.hasPrefix(home + "/") {
                let rest = fsPath.dropFirst(home.count)
                return "the shell replaced an unquoted ~ with your home directory \(home): quote the path, e.g. '~\(rest)'"
            }
        }
        return nil
    }

    /// What to do next after an error with this code (or status, if the server sent no code)
    /// and, for a refusal, rule.
    static func defaultAdvice(code: String?, rule: String?, status: Int, response: APIResponse, user: String?) -> String {
        let retryAfter = response.headers.first(name: "Retry-After").map { "\($0) seconds" } ?? "a while"
        switch code ?? fallbackCode(status: status) {
        case "bad_request": return "check the arguments: `fstn help COMMAND` shows the syntax of each"
        case "unauthorized": return "run `fstn login \(user ?? "NAME")`"
        case "refused" where rule == "invoke rule":
            return "act as a holder of the gate's invoker clearance (`fstn login`, `--user`), "
                + "or ask its owner to let you invoke it (`fstn gate update PATH --public`)"
        case "refused" where rule == "write rule":
            // Declassifying is no help: the data is not too secret to see, the target is
            // not secret (or not trusted) enough to receive it.
            return "write where your context's label may flow: into an object at least as secret as it "
                + "(e.g. your home facet `~`), vouched for by no more than your privilege; "
                + "or act as a principal whose privilege covers the target's integrity (`fstn login`, `--user`)"
        case "refused" where rule == "start rule":
            return "start at a label whose integrity your privilege vouches for (e.g. `--label T,T`, or NAME,NAME as NAME), "
                + "or act as that principal (`fstn login`, `--user`)"
        case "refused":
            return "act as a principal whose privilege covers these labels (`fstn login`, `--user`), "
                + "or ask an owner of the data to declassify it"
        case "forbidden": return "this needs the admin account, or an account that is not disabled"
        case "not_found": return "check the path: `fstn ls` its parent directory"
        case "conflict": return "choose another name, or remove the existing one with `fstn rm PATH`"
        case "too_large": return "the body is over the server's limit: store large data with `fstn blob put`"
        case "unsupported_media_type": return "this is a bug in fstn: please report it"
        case "rate_limited": return "wait \(retryAfter) and try again"
        case "function_failed":
            return "see what the function printed with `fstn logs \(response.invocation ?? "ID")`"
        case "unavailable": return "the server is busy or stopping: try again in \(retryAfter)"
        case "timeout": return "raise the gate's limit with `fstn gate update PATH --timeout-ms N`, or make the function faster"
        default:
            if (300..<400).contains(status), let location = response.headers.first(name: "Location") {
                return "the server redirects to \(location): give that server with --server"
            }
            return status >= 500 ? "see the server's log" : "check the arguments: `fstn help COMMAND` shows the syntax of each"
        }
    }

    static func fallbackCode(status: Int) -> String {
        switch status {
        case 400: return "bad_request"
        case 401: return "unauthorized"
        case 403: return "forbidden"
        case 404: return "not_found"
        case 409: return "conflict"
        case 413: return "too_large"
        case 429: return "rate_limited"
        case 503: return "unavailable"
        case 504: return "timeout"
        default: return ""
        }
    }

    /// The error for a failure to reach the server at all.
    public static func unreachable(server: String, error: any Error) -> FstnError {
        FstnError(
            "cannot reach \(server): \(describe(error))",
            next: "is the server running? start it with `faasten serve` or set --server/FSTN_SERVER")
    }

    /// A short description of a transport error (NIO's are long structures).
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.localizedCaseInsensitiveContains("refused") { return "connection refused" }
        if text.contains("connectTimeout") { return "the connection timed out" }
        if text.contains("deadlineExceeded") { return "the request took too long" }
        if text.contains("NXDOMAIN") || text.contains("dnsA") { return "the host name does not resolve" }
        return text
    }
}
