import Foundation
import HTTPTypes
import Hummingbird
import Labels
import Mustache
import NIOCore

/// The console's templates (Console/Assets/*.mustache, embedded in the binary) and what
/// they are rendered with. Mustache escapes every `{{value}}` for HTML (`< > & " '`);
/// the templates never use the unescaped forms (`{{{…}}}`, `{{&…}}`), so whatever a user
/// wrote (a file name, a label, a function's output) is shown as text.
struct ConsolePages: Sendable {
    let library: MustacheLibrary

    init() {
        var library = MustacheLibrary()
        for (name, bytes) in ConsoleAssets.templates {
            // The templates are part of the source; one that does not parse is a build mistake
            // that the console tests catch.
            try! library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        self.library = library
    }

    /// A page as an HTML response.
    func render<View>(_ template: String, _ page: Page<View>, status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(page, withTemplate: template) ?? "template \(template) is missing"
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}

/// The console's embedded files by name.
enum ConsoleAssets {
    static let templates: [(String, [UInt8])] = [
        ("layout", PackageResources.layout_mustache), ("chip", PackageResources.chip_mustache),
        ("problem", PackageResources.problem_mustache), ("signin", PackageResources.signin_mustache),
        ("message", PackageResources.message_mustache), ("fs", PackageResources.fs_mustache),
        ("result", PackageResources.result_mustache), ("invocation", PackageResources.invocation_mustache),
        ("invocations", PackageResources.invocations_mustache), ("triggers", PackageResources.triggers_mustache),
        ("trigger", PackageResources.trigger_mustache), ("admin", PackageResources.admin_mustache),
    ]
    static let script = PackageResources.console_js
    static let styleSheet = PackageResources.console_css
}

/// What every page shows around its own view: who is signed in, with which privilege and
/// context label, a notice or problem, and the label the page's API requests ended at.
struct Page<View>: @unchecked Sendable {
    var title: String
    var person: PersonView?
    var notice: String?
    var problem: ProblemView?
    var endLabel: LabelView?
    var view: View?
    /// The form token of the person's session (every state-changing form carries it).
    var csrf: String?
}

/// The signed-in person, in the page's bar.
struct PersonView: Sendable {
    let principal: String
    let privilege: String
    let privilegeWords: String
    let admin: Bool
    let contextLabel: LabelView
    let csrf: String
    /// This page's address, to come back to after setting the context label.
    let here: String
}

/// A label as a chip (`alice,pma`) and in words ("readable by: alice; vouched for by: pma").
struct LabelView: Sendable {
    let text: String
    let words: String
    /// `public` (anyone may read), `secret` (some principals), `top` (no one).
    let tone: String

    init(_ label: Label) {
        text = label.description
        words = LabelWords(label).description
        tone = label.secrecy.isTrue ? "public" : (label.secrecy.isFalse ? "top" : "secret")
    }

    /// A label the API wrote; `nil` for none, or for text that is not a label (such as
    /// a privilege among a refusal's labels).
    init?(_ text: String?) {
        guard let text, let label = try? Label(parsing: text) else { return nil }
        self.init(label)
    }
}

/// A problem on a page: fstn's reason, details and advice, and the labels it names.
struct ProblemView: Sendable {
    let heading: String
    let reason: String
    let details: [String]
    let hasDetails: Bool
    let labels: [NamedLabel]
    let next: String?

    init(_ problem: ConsoleProblem, heading: String? = nil, labels: [String: String] = [:]) {
        self.heading = heading ?? (problem.status == 403 ? "Refused" : "It did not work")
        reason = problem.reason
        details = problem.details
        hasDetails = !problem.details.isEmpty
        self.labels = labels.sorted { $0.key < $1.key }.compactMap { name, text in LabelView(text).map { NamedLabel(name: name, label: $0) } }
        next = problem.next
    }
}

struct NamedLabel: Sendable {
    let name: String
    let label: LabelView
}

/// A name and a value, for settings lists.
struct Setting: Sendable {
    let name: String
    let value: String
}
