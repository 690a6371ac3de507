import Foundation
import Hummingbird
import Queue

/// The proposal page's form, as posted: which button, the notes, the
/// operator's version of the file, the CSRF token and the digest of what
/// the page showed.
struct DecisionForm: Decodable, Sendable {
    enum Action: String, Decodable, Sendable {
        case approve, modify, reject
    }

    // Optional, so a form missing its CSRF token is refused as such (403),
    // not as a malformed form.
    var action: Action?
    var csrf: String?
    var reviewed: String?
    var notes: String?
    var final_file: String?

    /// The largest form accepted: a 1 MiB file, escaped by the browser, and the rest.
    static let limit = 4 * 1024 * 1024

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
