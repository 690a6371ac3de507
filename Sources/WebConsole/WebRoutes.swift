import Apply
import Console
import Foundation
import Hummingbird
import Queue

/// The web console's routes: login and logout, the live list, a proposal's
/// page and its decision, the event stream and the two static assets.
struct WebRoutes: Sendable {
    let configuration: WebConsoleConfiguration
    let sessions: SessionStore
    let broadcast: QueueBroadcast

    var root: QueueRoot { QueueRoot(configuration.queueRoot) }
    var applier: Applier {
        Applier(configRoot: configuration.configRoot, queueRoot: configuration.queueRoot, engine: configuration.engine)
    }

    func add(to router: Router<WebRequestContext>) {
        router.get("/login") { request, _ in await logInWithCode(request) }
        router.post("/login") { request, _ in try await logInWithToken(request) }
        router.post("/logout") { request, context in try await logOut(request, context) }
        router.get("/") { _, context in listPage(context) }
        router.get("/fragments/proposals") { _, _ in
            Page.respond(.ok, contentType: "text/html; charset=utf-8", rowsFragment())
        }
        router.get("/events") { _, _ in await events() }
        router.get("/proposals/:id") { request, context in try proposalPage(request, context) }
        router.post("/proposals/:id/decide") { request, context in try await decide(request, context) }
        router.get("/static/app.css") { _, _ in
            Page.respond(.ok, contentType: "text/css; charset=utf-8", Assets.css)
        }
        router.get("/static/live.js") { _, _ in
            Page.respond(.ok, contentType: "text/javascript; charset=utf-8", Assets.liveScript)
        }
    }

    // MARK: - Login

    private func sessionCookie(_ session: SessionStore.Session) -> Cookie {
        Cookie(
            name: SessionMiddleware.cookieName, value: session.id, path: "/", secure: configuration.usesTLS,
            httpOnly: true, sameSite: .strict)
    }

    private func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    private func logInWithCode(_ request: Request) async -> Response {
        guard let code = request.uri.queryParameters["code"].map(String.init) else {
            return Page.login(message: nil, status: .ok)
        }
        guard let session = await sessions.redeem(code: code) else {
            return Page.login(
                message: "This login link was already used, has expired or is not valid. Log in with the access token, or restart bottle-supervise web for a new link.",
                status: .forbidden)
        }
        var response = redirect(to: "/")
        response.setCookie(sessionCookie(session))
        return response
    }

    private func logInWithToken(_ request: Request) async throws -> Response {
        struct Form: Decodable { let token: String }
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard let form = try? URLEncodedFormDecoder().decode(Form.self, from: String(buffer: body)),
            let session = await sessions.logIn(token: form.token)
        else {
            return Page.login(message: "That is not the access token.", status: .forbidden)
        }
        var response = redirect(to: "/")
        response.setCookie(sessionCookie(session))
        return response
    }

    private func logOut(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        struct Form: Decodable { let csrf: String }
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard let session = context.session,
            let form = try? URLEncodedFormDecoder().decode(Form.self, from: String(buffer: body)),
            SessionStore.same(form.csrf, session.csrf)
        else { return Page.plain(.forbidden, "The form's CSRF token is missing or wrong; reload the page.") }
        await sessions.close(session.id)
        var response = redirect(to: "/login")
        response.setCookie(
            Cookie(
                name: SessionMiddleware.cookieName, value: "", maxAge: 0, path: "/", secure: configuration.usesTLS,
                httpOnly: true, sameSite: .strict))
        return response
    }

    // MARK: - Pages

    private func pendingEntries() -> [QueueEntry] {
        let bottles = (try? root.bottles()) ?? []
        var entries = bottles.flatMap { bottle in
            ((try? root.queue(for: bottle).scan(archived: false).entries) ?? []).filter(\.isPending)
        }
        entries.sort { ($0.proposal.createdAt, $0.proposal.id) < ($1.proposal.createdAt, $1.proposal.id) }
        return entries
    }

    private func currentFile(for proposal: Proposal) -> String? {
        try? ConfigRoot(configuration.configRoot).current(proposal.tool.configFile, for: proposal.bottle)
    }

    private func rowsFragment() -> String {
        let now = Date()
        let entries = pendingEntries()
        let hints = RiskOfEntries(configRoot: ConfigRoot(configuration.configRoot)).hints(for: entries)
        let rows = zip(entries, hints).map { ProposalViews.row($0, hints: $1, now: now) }
        return Page.fragment("rows", ["rows": rows])
    }

    private func listPage(_ context: WebRequestContext) -> Response {
        Page.html(
            title: "Pending proposals", template: "list", values: ["rows": rowsFragment()],
            session: context.session, live: true)
    }

    private func events() async -> Response {
        let stream = await broadcast.subscribe()
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store", .init("X-Accel-Buffering")!: "no"],
            body: ResponseBody { writer in
                for await message in stream { try await writer.write(ByteBuffer(string: message)) }
                try await writer.finish(nil)
            })
    }

    /// The proposal an `:id` parameter names, read once through the queue's
    /// guards (with the SHA-256 of the bytes read), and its bottle's queue;
    /// `nil` for none.
    private func lookUp(_ context: WebRequestContext) -> (QueueEntry, BottleQueue)? {
        guard let text = context.parameters.get("id"), let id = try? ProposalID(text),
            let queue = try? root.locate(id), let entry = try? queue.entry(id)
        else { return nil }
        return (entry, queue)
    }

    private func proposalPage(
        _ request: Request, _ context: WebRequestContext, message: (text: String, isError: Bool)? = nil,
        status: HTTPResponse.Status = .ok
    ) throws -> Response {
        guard let session = context.session else { return Page.plain(.forbidden, "Log in first.") }
        guard let (entry, _) = lookUp(context) else {
            return Page.plain(.notFound, "No such proposal.")
        }
        var message = message
        if message == nil, let done = request.uri.queryParameters["done"].flatMap({ DecisionStatus(rawValue: String($0)) }) {
            // The redirect after a decision says what was decided; the apply outcome when it is readable.
            let decision = entry.decision.flatMap { $0.status == done ? $0 : nil }
            // The summary names the outcome itself ("applied: wrote …", "approved, not applied: …").
            let applied = decision?.apply.map { " — \(Escaped($0.summary))" } ?? ""
            message = ("\(done.rawValue.capitalized)\(applied)", decision?.apply?.state == .failed)
        }
        let values = ProposalViews.page(
            entry, currentFile: currentFile(for: entry.proposal),
            decided: entry.decision.map {
                DecisionReview(proposal: entry.proposal, decision: $0, configRoot: configuration.configRoot)
            }, reviewed: entry.proposalSHA256 ?? "",
            session: session, message: message)
        return Page.html(
            title: "\(entry.proposal.bottle.rawValue): \(entry.proposal.tool.rawValue)", template: "proposal",
            values: values, session: session, status: status)
    }

    // MARK: - Deciding

    private func decide(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = context.session else { return Page.plain(.forbidden, "Log in first.") }
        guard let form = try? await DecisionForm.read(request) else {
            return Page.plain(.badRequest, "The form is incomplete; reload the page and decide again.")
        }
        guard let csrf = form.csrf, SessionStore.same(csrf, session.csrf) else {
            return Page.plain(.forbidden, "The form's CSRF token is missing or wrong; reload the page.")
        }
        guard let action = form.action, let reviewed = form.reviewed else {
            return Page.plain(.badRequest, "The form is incomplete; reload the page and decide again.")
        }
        guard let (entry, queue) = lookUp(context) else { return Page.plain(.notFound, "No such proposal.") }
        func again(_ text: String, _ status: HTTPResponse.Status) throws -> Response {
            try proposalPage(request, context, message: (text, true), status: status)
        }
        let proposal = entry.proposal
        guard let digest = entry.proposalSHA256, SessionStore.same(reviewed, digest) else {
            return try again(
                "This proposal changed in the queue after the page was loaded; nothing was decided. Review it again below.",
                .conflict)
        }
        if let decision = entry.decision {
            return try again("Already \(decision.status.rawValue) by \(Escaped(decision.decidedBy)); nothing was changed.", .conflict)
        }
        let notes = (form.notes ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let decidedBy = OperatorName.current + " (web)"
        let decision: Decision
        switch action {
        case .approve:
            decision = Decision(
                id: proposal.id, status: .approved, notes: notes, decidedBy: decidedBy, proposalSHA256: digest)
        case .reject:
            guard !notes.isEmpty else { return try again("A rejection needs notes: tell the agent why.", .badRequest) }
            decision = Decision(
                id: proposal.id, status: .rejected, notes: notes, decidedBy: decidedBy, proposalSHA256: digest)
        case .modify:
            guard let submitted = form.finalFile(for: proposal) else {
                return try again("Modify needs the file to approve.", .badRequest)
            }
            let file: String
            switch submitted {
            case .success(let text): file = text
            case .failure(let refusal):
                return try again(
                    "Nothing was decided: \(refusal.reason). Use `bottle-supervise modify \(proposal.id) --file FILE` for this file.",
                    .badRequest)
            }
            do throws(ValidationError) {
                try ProposedFileValidator.validate(file, for: proposal.tool, current: currentFile(for: proposal))
            } catch {
                return try again("Your version does not validate, nothing was decided: \(Escaped(error.description))", .badRequest)
            }
            decision = Decision(
                id: proposal.id, status: .modified, notes: notes, finalFile: file, decidedBy: decidedBy,
                proposalSHA256: digest)
        }
        do {
            if decision.status.isApproval {
                _ = try await applier.apply(decision: decision, proposal: proposal, queue: queue)
            } else {
                try applier.record(decision, of: proposal, queue: queue)
            }
        } catch let error as ApplyError {
            if case .proposalChanged = error {
                return try again(
                    "This proposal changed in the queue after the page was loaded; nothing was decided. Review it again below.",
                    .conflict)
            }
            return try again("Nothing was decided: \(Escaped(error.description))", .internalServerError)
        } catch let error as QueueError {
            if case .alreadyDecided(_, let status) = error {
                return try again("Already \(status.rawValue): another decision won; nothing was changed.", .conflict)
            }
            return try again("Nothing was decided: \(Escaped(error.description))", .internalServerError)
        } catch {
            return try again("Nothing was decided: \(Escaped("\(error)"))", .internalServerError)
        }
        return redirect(to: "/proposals/\(proposal.id.rawValue)?done=\(decision.status.rawValue)")
    }
}
