import Apply
import Console
import Fleet
import Foundation
import Hummingbird
import Queue

/// The fleet page's routes (`web --database`): every host's pending
/// proposals with filters, a proposal's page, a decision as a claim in the
/// database, and the named operators' sign-in.
///
/// A decision here never touches a queue file: it is one row in
/// `fleet_decisions`, bound to the digest the page showed, and the owning
/// host's relay applies it with the same `Applier` as `approve`. The
/// database's primary key is the one-decision rule, so of two operators on
/// two pages one wins and the other is told who did.
struct FleetRoutes: Sendable {
    let configuration: WebConsoleConfiguration
    let fleet: FleetWeb
    let sessions: SessionStore

    func add(to router: Router<WebRequestContext>) {
        router.get("/") { request, context in try await listPage(request, context) }
        router.get("/fragments/proposals") { request, _ in
            Page.respond(.ok, contentType: "text/html; charset=utf-8", try await rowsFragment(FleetFilter(request)))
        }
        router.get("/fleet/:host/:bottle/:id") { request, context in try await proposalPage(request, context) }
        router.get("/fleet/:host/:bottle/:id/status") { _, context in try await statusFragment(context) }
        router.post("/fleet/:host/:bottle/:id/decide") { request, context in try await decide(request, context) }
        router.get("/login/operator") { request, _ in try await signInPage(request) }
        router.post("/login/operator") { request, _ in try await signIn(request) }
    }

    // MARK: - Sign-in

    /// The page an operator's link opens: who it signs in as, and a button.
    /// Nothing is spent by opening it (a chat client's link preview fetches
    /// URLs); the button's POST spends the token.
    private func signInPage(_ request: Request) async throws -> Response {
        let token = request.uri.queryParameters["token"].map(String.init) ?? ""
        guard let name = try? await fleet.operators.holder(of: token) else {
            return Page.html(
                title: "Sign in", template: "operatorSignIn", values: ["message": Self.spentLink], session: nil,
                status: .forbidden)
        }
        return Page.html(
            title: "Sign in", template: "operatorSignIn", values: ["name": name.rawValue, "token": token],
            session: nil)
    }

    static let spentLink =
        "This sign-in link was already used, has expired, or its operator was removed. Ask for a new one: bottle-supervise operators add NAME."

    private func signIn(_ request: Request) async throws -> Response {
        struct Form: Decodable { let token: String }
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard let form = try? URLEncodedFormDecoder().decode(Form.self, from: String(buffer: body)),
            let signedIn = try? await fleet.operators.signIn(token: form.token)
        else {
            return Page.html(
                title: "Sign in", template: "operatorSignIn", values: ["message": Self.spentLink], session: nil,
                status: .forbidden)
        }
        let session = await sessions.open(operator: signedIn.name.rawValue, addedAt: signedIn.addedAt)
        var response = Response(status: .seeOther, headers: [.location: "/"])
        response.setCookie(WebRoutes.sessionCookie(session, secure: configuration.usesTLS))
        return response
    }

    // MARK: - The list

    /// The list's rows: a page of the oldest pending proposals that pass the
    /// filter, each critical one with its approvals so far when a threshold
    /// applies; when there are more than a page, how many and links to the
    /// pages before and after.
    private func rowsFragment(_ filter: FleetFilter) async throws -> String {
        let page = try await fleet.store.pendingPage(
            host: filter.host, bottle: filter.bottle, limit: fleet.listLimit, offset: filter.offset)
        let now = Date()
        var items: [[String: Any]] = []
        for row in page.rows {
            guard var item = FleetViews.row(row, now: now) else { continue }
            let needed = ApprovalRequirement(for: row, applying: row.proposedFile, threshold: fleet.threshold)
            if needed.count > 1 {
                let approvals = (try? await fleet.approvals.approvals(
                    host: row.host.rawValue, bottle: row.bottle.rawValue, id: row.id.rawValue)) ?? []
                let count = Set(approvals.filter { Self.asProposed($0, row) }.map(\.operatorName)).count
                item["approvals"] = "\(count) of \(needed.count) approvals"
            }
            items.append(item)
        }
        var values: [String: Any] = ["rows": items, "emptyText": "No pending proposals on any host of the fleet."]
        if page.offset > 0 || page.hasMore(limit: fleet.listLimit) {
            values.merge(FleetViews.pager(page, filter: filter, limit: fleet.listLimit)) { $1 }
        }
        return Page.fragment("rows", values)
    }

    private func listPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let filter = FleetFilter(request)
        // Every host and bottle of the fleet, also those with nothing pending.
        // Read at once, each on a connection of the pool: the page waits for the slowest, not the sum.
        async let listedHosts = fleet.store.hosts()
        async let listedBottles = fleet.store.bottleNames()
        let rows = try await rowsFragment(filter)
        let fleetHosts = try await listedHosts
        let hosts = Set(fleetHosts.map(\.host.rawValue)).union(filter.host.map { [$0.rawValue] } ?? [])
        let bottles = Set(try await listedBottles).union(filter.bottle.map { [$0.rawValue] } ?? [])
        var values: [String: Any] = [
            "heading": "Pending proposals across the fleet",
            "rows": rows,
            "filters": true,
            "hosts": hosts.sorted().map { ["name": $0, "selected": $0 == filter.host?.rawValue] },
            "bottles": bottles.sorted().map { ["name": $0, "selected": $0 == filter.bottle?.rawValue] },
        ]
        if !fleetHosts.isEmpty {
            let now = Date()
            values["fleetHosts"] = [
                "count": FleetPendingPage.grouped(fleetHosts.count), "entries": fleetHosts.map { FleetViews.host($0, now: now) },
            ]
        }
        return Page.html(
            title: "Fleet", template: "list", values: values, session: context.session, live: true, grantsLink: false)
    }

    // MARK: - A proposal

    /// The proposal the path names (`/fleet/HOST/BOTTLE/ID`), as mirrored; `nil` for none.
    private func lookUp(_ context: WebRequestContext) async throws -> FleetProposalRow? {
        guard let host = context.parameters.get("host").flatMap({ try? FleetHostName($0) }),
            let bottle = context.parameters.get("bottle").flatMap({ try? BottleSlug($0) }),
            let id = context.parameters.get("id").flatMap({ try? ProposalID($0) })
        else { return nil }
        return try await fleet.store.proposals(id: id).first { $0.host == host && $0.bottle == bottle }
    }

    private func proposalPage(
        _ request: Request, _ context: WebRequestContext, message: (text: String, isError: Bool)? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        guard let session = context.session else { return Page.plain(.forbidden, "Log in first.") }
        guard let row = try await lookUp(context), let entry = FleetViews.entry(row) else {
            return Page.plain(.notFound, "No such proposal in the fleet.")
        }
        var message = message
        // The redirect after a decision says what was done (only the words this page writes).
        let done = request.uri.queryParameters["done"].map(String.init)
        if message == nil, done == "approval" {
            message = ("Your approval is recorded; it waits for the other operators.", false)
        } else if message == nil, let status = done.flatMap(DecisionStatus.init(rawValue:)) {
            message = ("Decided: \(status.rawValue). The host's relay applies it.", false)
        }
        var values = ProposalViews.page(
            entry, currentFile: row.currentFile, reviewed: row.proposalSHA256, session: session, message: message)
        values["host"] = row.host.rawValue
        values["fleet"] = true
        values["grantable"] = nil
        values["decideURL"] = FleetViews.path(row) + "/decide"
        // Where the proposal stands in the fleet, refetched by the page's script on every change the
        // database announces, so a decision, delivery, refusal or withdrawal elsewhere shows here.
        values["liveStatusURL"] = FleetViews.path(row) + "/status"
        values["liveStatus"] = Page.fragment("fleetStatus", FleetViews.status(row))
        if let decision = row.decision {
            var item = values["decision"] as? [String: Any] ?? [:]
            item["delivery"] = FleetViews.delivery(decision, host: row.host.rawValue)
            values["decision"] = item
        } else {
            let needed = ApprovalRequirement(for: row, applying: row.proposedFile, threshold: fleet.threshold)
            if needed.count > 1 {
                let approvals = try await fleet.approvals.approvals(
                    host: row.host.rawValue, bottle: row.bottle.rawValue, id: row.id.rawValue
                ).filter { Self.asProposed($0, row) }
                values["approvalState"] = "This \(needed.needs): \(needed.progress(approvals.map(\.operatorName)))."
            }
        }
        return Page.html(
            title: "\(row.host.rawValue): \(row.bottle.rawValue): \(entry.proposal.tool.rawValue)", template: "proposal",
            values: values, session: session, live: true, status: status, grantsLink: false)
    }

    /// Where one proposal stands now (the live part of its page).
    private func statusFragment(_ context: WebRequestContext) async throws -> Response {
        guard let row = try await lookUp(context) else { return Page.plain(.notFound, "No such proposal in the fleet.") }
        return Page.respond(.ok, contentType: "text/html; charset=utf-8", Page.fragment("fleetStatus", FleetViews.status(row)))
    }

    // MARK: - Deciding

    private func decide(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let posted: DecisionForm.Posted
        switch await DecisionForm.checked(request, context) {
        case .refused(let response): return response
        case .form(let checked): posted = checked
        }
        let (form, action, reviewed, session) = (posted.form, posted.action, posted.reviewed, posted.session)
        guard let row = try await lookUp(context), let entry = FleetViews.entry(row) else {
            return Page.plain(.notFound, "No such proposal in the fleet.")
        }
        func again(_ text: String, _ status: HTTPResponse.Status) async throws -> Response {
            try await proposalPage(request, context, message: (text, true), status: status)
        }
        let changed =
            "This proposal changed on its host after the page was loaded; nothing was decided. Review it again below."
        guard SessionStore.same(reviewed, row.proposalSHA256) else { return try await again(changed, .conflict) }
        if let decision = row.decision { return try await again(FleetViews.alreadyDecided(decision), .conflict) }
        if row.archived { return try await again("This proposal is no longer pending on its host; nothing was decided.", .conflict) }
        let proposal = entry.proposal
        let notes = (form.notes ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        // The host's own login (its access token) is no named operator: in
        // fleet mode it would let one person count as two toward a threshold
        // (once as "user (web)", once by name), so it decides nothing here.
        guard let decidedBy = session.operatorName else {
            return try await again(Self.namedOperatorsOnly, .forbidden)
        }
        var status = DecisionStatus.approved
        var finalFile: String?
        switch action {
        case .approve:
            break
        case .reject:
            guard !notes.isEmpty else { return try await again("A rejection needs notes: tell the agent why.", .badRequest) }
            status = .rejected
        case .modify:
            guard let submitted = form.finalFile(for: proposal) else {
                return try await again("Modify needs the file to approve.", .badRequest)
            }
            switch submitted {
            case .success(let text): finalFile = text
            case .failure(let refusal):
                return try await again("Nothing was decided: \(refusal.reason).", .badRequest)
            }
            do throws(ValidationError) {
                try ProposedFileValidator.validate(finalFile ?? "", for: proposal.tool, current: row.currentFile)
            } catch {
                return try await again(
                    "Your version does not validate, nothing was decided: \(Escaped(error.description))", .badRequest)
            }
            status = .modified
        case .approveOneHour, .approveEightHours, .approveAlways, .approveRemember, .extend:
            return try await again(
                "Time-boxed grants, remembered rules and deadline extensions are made on the bottle's own host (bottle-supervise web there); nothing was decided.",
                .badRequest)
        }
        var deciders = decidedBy
        // The file that would be applied decides the threshold and what an approval is bound to.
        let applied = finalFile ?? row.proposedFile
        let needed = ApprovalRequirement(for: row, applying: applied, threshold: fleet.threshold).count
        if status.isApproval, needed > 1 {
            let approvals = try await fleet.approvals.approve(
                host: row.host.rawValue, bottle: row.bottle.rawValue, id: row.id.rawValue, operatorName: decidedBy,
                proposalSHA256: row.proposalSHA256, fileSHA256: SHA256Hex.of(applied), notes: notes)
            let names = approvals.map(\.operatorName)
            if Set(names).count < needed {
                return Response(status: .seeOther, headers: [.location: FleetViews.path(row) + "?done=approval"])
            }
            deciders = FleetViews.deciders(names)
        }
        let claim = FleetDecisionRow(
            host: row.host, bottle: row.bottle, id: row.id, status: status, notes: notes, finalFile: finalFile,
            decidedBy: deciders, proposalSHA256: row.proposalSHA256)
        switch try await fleet.store.decide(claim) {
        case .won:
            return Response(status: .seeOther, headers: [.location: FleetViews.path(row) + "?done=\(status.rawValue)"])
        case .alreadyDecided(let winner):
            return try await again(FleetViews.alreadyDecided(winner), .conflict)
        case .proposalChanged:
            return try await again(changed, .conflict)
        case .proposalArchived:
            return try await again("This proposal is no longer pending on its host; nothing was decided.", .conflict)
        case .unknownProposal:
            return Page.plain(.notFound, "No such proposal in the fleet.")
        }
    }
}

extension FleetRoutes {
    static let namedOperatorsOnly =
        "Only named operators decide on the fleet page: this session signed in with the host's access token. Nothing was decided. Ask for a sign-in link: bottle-supervise operators add NAME."

    /// Whether `approval` approves the proposal as proposed (its digest and its proposed file).
    static func asProposed(_ approval: FleetApprovals.Approval, _ row: FleetProposalRow) -> Bool {
        approval.proposalSHA256 == row.proposalSHA256 && approval.fileSHA256 == SHA256Hex.of(row.proposedFile)
    }
}

/// The list's filters and page from the query string
/// (`?host=…&bottle=…&offset=…`); a value that is not a host or bottle name,
/// or not a count, is ignored.
struct FleetFilter: Sendable {
    var host: FleetHostName?
    var bottle: BottleSlug?
    /// How many matching proposals the page skips (oldest first).
    var offset = 0

    init(host: FleetHostName? = nil, bottle: BottleSlug? = nil, offset: Int = 0) {
        self.host = host
        self.bottle = bottle
        self.offset = offset
    }

    init(_ request: Request) {
        host = request.uri.queryParameters["host"].flatMap { $0.isEmpty ? nil : try? FleetHostName(String($0)) }
        bottle = request.uri.queryParameters["bottle"].flatMap { $0.isEmpty ? nil : try? BottleSlug(String($0)) }
        offset = request.uri.queryParameters["offset"].flatMap { Int(String($0)) }.map { max(0, $0) } ?? 0
    }

    /// The list's address with this filter, starting at `offset`.
    func path(offset: Int) -> String {
        var query: [String] = []
        // Host and bottle names are checked names (letters, digits, `.`, `-`, `_`): nothing to escape.
        if let host { query.append("host=\(host.rawValue)") }
        if let bottle { query.append("bottle=\(bottle.rawValue)") }
        if offset > 0 { query.append("offset=\(offset)") }
        return query.isEmpty ? "/" : "/?" + query.joined(separator: "&")
    }
}
