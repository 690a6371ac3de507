import Apply
import Console
import Foundation
import Hummingbird
import Queue

/// The web console's routes: login and logout, the live list, a proposal's
/// page and its decision, the event stream and the two static assets; with a
/// fleet database, the fleet's list and pages (``FleetRoutes``) instead of this host's.
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
        router.get("/events") { _, _ in await events() }
        router.get("/static/app.css") { _, _ in
            Page.respond(.ok, contentType: "text/css; charset=utf-8", Assets.css)
        }
        router.get("/static/live.js") { _, _ in
            Page.respond(.ok, contentType: "text/javascript; charset=utf-8", Assets.liveScript)
        }
        if let fleet = configuration.fleet {
            // The fleet's pages instead of this host's queue (`web --database`).
            FleetRoutes(configuration: configuration, fleet: fleet, sessions: sessions).add(to: router)
            return
        }
        router.get("/") { _, context in listPage(context) }
        router.get("/fragments/proposals") { _, _ in
            Page.respond(.ok, contentType: "text/html; charset=utf-8", rowsFragment())
        }
        router.get("/proposals/:id") { request, context in try proposalPage(request, context) }
        router.post("/proposals/:id/decide") { request, context in try await decide(request, context) }
        router.get("/grants") { request, context in grantsPage(request, context) }
        router.post("/grants/:id/revoke") { request, context in try await changeGrant(request, context, revoke: true) }
        router.post("/grants/:id/extend") { request, context in try await changeGrant(request, context, revoke: false) }
    }

    // MARK: - Login

    private func sessionCookie(_ session: SessionStore.Session) -> Cookie {
        Self.sessionCookie(session, secure: configuration.usesTLS)
    }

    /// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no
    /// other site's page makes the browser send it), Secure over TLS.
    static func sessionCookie(_ session: SessionStore.Session, secure: Bool) -> Cookie {
        Cookie(
            name: SessionMiddleware.cookieName, value: session.id, path: "/", secure: secure, httpOnly: true,
            sameSite: .strict)
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
        var values: [String: Any] = ["rows": rowsFragment(), "heading": "Pending proposals"]
        if let problem = policyProblem { values["policyProblem"] = problem }
        return Page.html(
            title: "Pending proposals", template: "list", values: values, session: context.session, live: true)
    }

    /// The standing rules and preset answers now; empty when there are none or they cannot be read.
    private var policy: HostPolicy { (try? configuration.policy?.current().get()) ?? HostPolicy() }

    /// Why the standing rules are off (the settings file cannot be read or parsed), escaped; `nil` when they are in use.
    private var policyProblem: String? {
        guard case .failure(let problem)? = configuration.policy?.current() else { return nil }
        return Escaped(problem.message).description
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
            session: session, message: message, answers: policy.answers,
            deadline: entry.decision == nil ? lookUp(context)?.1.deadline(of: entry.proposal) : nil,
            policyProblem: policyProblem)
        return Page.html(
            title: "\(entry.proposal.bottle.rawValue): \(entry.proposal.tool.rawValue)", template: "proposal",
            values: values, session: session, status: status)
    }

    // MARK: - Deciding

    private func decide(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let posted: DecisionForm.Posted
        switch await DecisionForm.checked(request, context) {
        case .refused(let response): return response
        case .form(let checked): posted = checked
        }
        let (form, action, reviewed) = (posted.form, posted.action, posted.reviewed)
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
        if action == .extend { return try extend(proposal, in: queue, request, context) }
        var notes = (form.notes ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let answer = form.answerName
        if let answer {
            guard let text = policy.answers[answer] else {
                return try again(
                    "There is no preset answer \(Escaped(answer)) in the settings file (any more); nothing was decided.",
                    .badRequest)
            }
            notes = notes.isEmpty ? text : text + "\n\n" + notes
        }
        let decidedBy = OperatorName.current + " (web)"
        let decision: Decision
        var remembered: PolicyRule?
        switch action {
        case .approve, .approveOneHour, .approveEightHours, .approveAlways, .approveRemember, .extend:
            if action == .approveRemember {
                guard let settings = configuration.policy?.settings else {
                    return try again("No settings file to remember a rule beside; nothing was decided.", .badRequest)
                }
                if let problem = policyProblem {
                    return try again(
                        "The standing rules cannot be read (\(problem)); fix them before adding one. Nothing was decided.",
                        .badRequest)
                }
                do throws(PolicyProblem) {
                    remembered = try RememberedRules.rule(for: proposal, current: currentFile(for: proposal), grant: nil)
                } catch {
                    return try again(
                        "Not remembered, nothing was decided: \(Escaped(error.message)). Approve it without remembering, or write a rule in \(settings).",
                        .badRequest)
                }
            }
            decision = Decision(
                id: proposal.id, status: .approved, notes: notes, decidedBy: decidedBy, proposalSHA256: digest,
                answer: answer)
        case .reject:
            guard !notes.isEmpty else { return try again("A rejection needs notes: tell the agent why.", .badRequest) }
            decision = Decision(
                id: proposal.id, status: .rejected, notes: notes, decidedBy: decidedBy, proposalSHA256: digest,
                answer: answer)
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
                proposalSHA256: digest, answer: answer)
        }
        do {
            if decision.status.isApproval {
                let recorded = try await applier.apply(
                    decision: decision, proposal: proposal, queue: queue, grant: action.grant)
                if let remembered, let settings = configuration.policy?.settings, recorded.apply?.state != .failed {
                    do throws(PolicyProblem) {
                        try RememberedRules.append(remembered, besides: settings, proposal: proposal.id, by: decidedBy)
                    } catch {
                        return try again("Approved, but not remembered: \(Escaped(error.message))", .internalServerError)
                    }
                }
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

    // MARK: - Grants

    private func grantsPage(
        _ request: Request, _ context: WebRequestContext, message: (text: String, isError: Bool)? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        guard let session = context.session else { return Page.plain(.forbidden, "Log in first.") }
        var values: [String: Any] = ["csrf": session.csrf]
        do {
            let now = Date()
            values["grants"] = try applier.grantLedger.live().map { GrantViews.row($0, now: now) }
        } catch {
            values["error"] = "The grant ledger cannot be read: \(Escaped("\(error)"))"
        }
        if let message {
            values["message"] = message.text
            values["messageKind"] = message.isError ? "error" : "ok"
        } else if let done = request.uri.queryParameters["done"] {
            values["message"] = String(done)
            values["messageKind"] = "ok"
        }
        return Page.html(title: "Grants", template: "grants", values: values, session: session, status: status)
    }

    /// `POST /grants/:id/revoke` and `/grants/:id/extend` (`for`: `1h` or `8h`), CSRF-checked.
    private func changeGrant(_ request: Request, _ context: WebRequestContext, revoke: Bool) async throws -> Response {
        struct Form: Decodable {
            let csrf: String?
            let `for`: String?
        }
        guard let session = context.session else { return Page.plain(.forbidden, "Log in first.") }
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard let form = try? URLEncodedFormDecoder().decode(Form.self, from: String(buffer: body)),
            let csrf = form.csrf, SessionStore.same(csrf, session.csrf)
        else { return Page.plain(.forbidden, "The form's CSRF token is missing or wrong; reload the page.") }
        guard let text = context.parameters.get("id"), let id = try? ProposalID(text) else {
            return Page.plain(.notFound, "No such grant.")
        }
        let applier = Applier(
            configRoot: configuration.configRoot, queueRoot: configuration.queueRoot, engine: configuration.engine,
            operatorName: OperatorName.current + " (web)")
        do {
            if revoke {
                let end = try await applier.revokeGrant(id)
                let failed = end.outcome.state != .applied
                return grantsPage(
                    request, context, message: ("Revoked \(id): \(Escaped(end.outcome.summary))", failed),
                    status: failed ? .internalServerError : .ok)
            }
            guard let length = form.for.flatMap({ try? GrantDuration.parse($0) }) else {
                return grantsPage(request, context, message: ("Extend needs a duration.", true), status: .badRequest)
            }
            let grant = try await applier.extendGrant(id, by: length)
            return grantsPage(
                request, context,
                message: ("Extended \(id): ends \(Timestamp.format(grant.expiresAt)).", false))
        } catch ApplyError.noSuchGrant {
            return grantsPage(request, context, message: ("No live grant \(id).", true), status: .notFound)
        } catch {
            return grantsPage(request, context, message: ("Nothing changed: \(Escaped("\(error)"))", true), status: .conflict)
        }
    }

    // MARK: - Proposal deadlines

    /// How much one press of "Extend" adds to a proposal's deadline.
    static let extensionStep: TimeInterval = 3600

    /// Extends the proposal's `--expire-after` deadline (``BottleQueue/extendDeadline(of:by:now:)``): nothing is decided.
    private func extend(_ proposal: Proposal, in queue: BottleQueue, _ request: Request, _ context: WebRequestContext)
        throws -> Response
    {
        let result = Result { () throws(QueueError) in try queue.extendDeadline(of: proposal, by: Self.extensionStep) }
        switch result {
        case .success(let deadline):
            return try proposalPage(
                request, context, message: ("Extended: it now expires at \(Timestamp.format(deadline)) unless decided.", false))
        case .failure(let error):
            let reason: String
            if case .malformedFile(_, let why) = error { reason = why } else { reason = error.description }
            return try proposalPage(
                request, context, message: ("Not extended: \(Escaped(reason)).", true), status: .conflict)
        }
    }
}
