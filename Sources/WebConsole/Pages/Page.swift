import Hummingbird
import Mustache

/// Rendering pages: the templates, filled with values that are HTML-escaped
/// by the template engine, inside the layout.
enum Page {
    /// The templates, parsed once. They are constants of this program; a
    /// test renders each, so a broken template fails the tests, not a start.
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in [
            ("layout", Templates.layout), ("list", Templates.list), ("rows", Templates.rows),
            ("proposal", Templates.proposal), ("login", Templates.login), ("grants", Templates.grants),
            ("operatorSignIn", Templates.operatorSignIn), ("fleetStatus", Templates.fleetStatus),
        ] {
            // swift-format-ignore: NeverUseForceTry
            try! library.register(text, named: name)
        }
        return library
    }()

    /// `template` filled with `values`, as an HTML fragment.
    static func fragment(_ template: String, _ values: [String: Any]) -> String {
        library.render(values, withTemplate: template) ?? ""
    }

    /// A whole page: `body` rendered from `template` inside the layout.
    /// `grantsLink`: whether the header links to this host's grants (not on the fleet's pages).
    static func html(
        title: String, template: String, values: [String: Any], session: SessionStore.Session?, live: Bool = false,
        status: HTTPResponse.Status = .ok, grantsLink: Bool = true
    ) -> Response {
        var layout: [String: Any] = ["title": title, "body": fragment(template, values), "live": live]
        if let session {
            layout["csrf"] = session.csrf
            layout["grantsLink"] = grantsLink
            if let name = session.operatorName { layout["signedInAs"] = "Signed in as \(name)" }
        }
        return respond(status, contentType: "text/html; charset=utf-8", fragment("layout", layout))
    }

    /// The login page.
    static func login(message: String?, status: HTTPResponse.Status) -> Response {
        var values: [String: Any] = [:]
        if let message { values["message"] = message }
        return html(title: "Log in", template: "login", values: values, session: nil, status: status)
    }

    /// A short plain-text answer (refusals).
    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        respond(status, contentType: "text/plain; charset=utf-8", text + "\n")
    }

    static func respond(_ status: HTTPResponse.Status, contentType: String, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
