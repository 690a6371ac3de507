import Apply
import Foundation
import Hummingbird
import Queue

/// The proposal page's form, as posted: which button, the notes, the
/// operator's version of the file, the CSRF token and the digest of what
/// the page showed.
struct DecisionForm: Decodable, Sendable {
    enum Action: String, Decodable, Sendable {
        case approve, modify, reject
        /// Approve, and add a standing rule for exactly these hosts or routes in this bottle.
        case approveRemember = "approve-remember"
        /// Extend the proposal's `--expire-after` deadline (nothing is decided).
        case extend

        /// The duration buttons: a grant of one hour, of eight hours, or for good.
        case approveOneHour = "approve-1h"
        case approveEightHours = "approve-8h"
        case approveAlways = "approve-always"

        /// How long the approval lasts: the bottle's default for the plain buttons.
        var grant: GrantRequest {
            switch self {
            case .approveOneHour: .lasting(GrantDuration(seconds: 3_600)!)
            case .approveEightHours: .lasting(GrantDuration(seconds: 8 * 3_600)!)
            case .approveAlways: .permanent
            case .approve, .approveRemember, .modify, .reject, .extend: .asConfigured
            }
        }
    }

    // Optional, so a form missing its CSRF token is refused as such (403),
    // not as a malformed form.
    var action: Action?
    var csrf: String?
    var reviewed: String?
    var notes: String?
    var final_file: String?
    /// The preset answer chosen in the picker ("" for none).
    var answer: String?
    /// A "Reject: <name>" button: reject with that preset answer.
    var preset: String?

    /// What to do: the button pressed (a preset answer's button rejects).
    var chosenAction: Action? { action ?? (preset != nil ? .reject : nil) }

    /// The preset answer's name: the button's, else the picker's.
    var answerName: String? {
        if let preset, !preset.isEmpty { return preset }
        if let answer, !answer.isEmpty { return answer }
        return nil
    }

    /// The largest form accepted: a 1 MiB file, escaped by the browser, and the rest.
    static let limit = 4 * 1024 * 1024

    /// A posted decision, checked in the order every page checks it: signed
    /// in, a readable form, this session's CSRF token, a button and the
    /// digest the page showed; else the refusal to answer with.
    enum Checked {
        case form(Posted)
        case refused(Response)
    }

    /// A form that passed the checks, with who posted it.
    struct Posted {
        let form: DecisionForm
        let action: Action
        /// The digest of the proposal file as the page showed it.
        let reviewed: String
        let session: SessionStore.Session
    }

    static func checked(_ request: Request, _ context: WebRequestContext) async -> Checked {
        guard let session = context.session else { return .refused(Page.plain(.forbidden, "Log in first.")) }
        guard let form = try? await read(request) else {
            return .refused(Page.plain(.badRequest, "The form is incomplete; reload the page and decide again."))
        }
        guard let csrf = form.csrf, SessionStore.same(csrf, session.csrf) else {
            return .refused(Page.plain(.forbidden, "The form's CSRF token is missing or wrong; reload the page."))
        }
        guard let action = form.chosenAction, let reviewed = form.reviewed else {
            return .refused(Page.plain(.badRequest, "The form is incomplete; reload the page and decide again."))
        }
        return .form(Posted(form: form, action: action, reviewed: reviewed, session: session))
    }

    static func read(_ request: Request) async throws -> DecisionForm {
        let body = try await request.body.collect(upTo: limit)
        return try URLEncodedFormDecoder().decode(DecisionForm.self, from: String(buffer: body))
    }

    /// The operator's file, byte for byte what the editor showed, with the
    /// line breaks the proposal used (``EditorText``): browsers send a
    /// textarea's lines as CR LF, which would turn an allowlist into one with
    /// `\r` in every name. `nil` when the form has no file.
    func finalFile(for proposal: Proposal) -> Result<String, EditorRefusal>? {
        guard let text = final_file else { return nil }
        return EditorText.submitted(text, editing: proposal.proposedFile)
    }
}
