import Apply
import Dispatch
import FileAccess
import Foundation
import Queue
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The interactive console: `bottle-supervise console`.
///
/// One event loop over four sources — keys, queue changes (inotify, via
/// ``QueueWatch``), window resizes and a one-second tick for ages — that
/// updates a ``ConsoleModel`` and redraws a whole frame in one write. Every
/// decision goes through the queue's exactly-one rule (or the apply step,
/// which uses it), so a second operator is told "already decided" and
/// nothing is overwritten.
public struct ConsoleApp: Sendable {
    /// Renders one proposal's review (summary and diff against the current file) as lines.
    public typealias Reviewer =
        @Sendable (_ entry: QueueEntry, _ currentFile: String?, _ color: Bool, _ columns: Int) -> [String]
    /// Records a decision; approvals may apply it first. Returns the decision as recorded.
    public typealias Decider =
        @Sendable (_ decision: Decision, _ proposal: Proposal, _ queue: BottleQueue, _ grant: GrantRequest) async throws
        -> Decision

    /// The queue root (one directory per bottle).
    public let queueRoot: FilePath
    /// The config root (each bottle's current files).
    public let configRoot: FilePath
    /// Ring the terminal bell when a proposal arrives.
    public let bell: Bool
    /// The filter the console opens with (bottle or tool contains it); `/` changes it.
    public let filter: String
    /// Where new proposals are announced besides the bell (`[notify]`), or why that can't be read.
    public let notifications: Result<NotifySettings, NotifySettingsError>
    /// The standing rules and preset answers (`[[policy.rule]]`, `[answers]`), read again as the files change.
    public let policy: PolicySource?
    private let reviewer: Reviewer
    private let decider: Decider
    /// The engine the reload actions of a grant's end call.
    private let engine: ContainerEngine

    /// A console over `queueRoot`, diffing against the files under `configRoot`;
    /// approvals are applied with `engine`'s default reload actions.
    public init(
        queueRoot: FilePath, configRoot: FilePath, engine: ContainerEngine = .resolve(), bell: Bool = true,
        filter: String = "",
        notifications: Result<NotifySettings, NotifySettingsError> = .success(NotifySettings()),
        policy: PolicySource? = nil, reviewer: Reviewer? = nil, decider: Decider? = nil
    ) {
        self.queueRoot = queueRoot
        self.policy = policy
        self.configRoot = configRoot
        self.bell = bell
        self.filter = filter
        self.notifications = notifications
        self.reviewer = reviewer ?? ConsoleApp.review
        self.engine = engine
        let applier = Applier(configRoot: configRoot, queueRoot: queueRoot, engine: engine)
        self.decider =
            decider ?? { decision, proposal, queue, grant in
                // Approvals are applied (write, reload, record); anything else is recorded as it is.
                if decision.status.isApproval {
                    return try await applier.apply(decision: decision, proposal: proposal, queue: queue, grant: grant)
                }
                try applier.record(decision, of: proposal, queue: queue)
                return decision
            }
    }

    /// Runs until the operator quits; the terminal is given back on every way out.
    public func run() async throws {
        let terminal = Terminal()
        guard terminal.isInteractive else { throw TerminalError.notATerminal }
        let (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(4096))
        let input = InputReader { keys in continuation.yield(.keys(keys)) }
        let watching = Task {
            for await change in QueueWatch.changes(root: queueRoot) { continuation.yield(.queue(change)) }
        }
        let ticking = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                continuation.yield(.tick)
            }
        }
        signal(SIGWINCH, SIG_IGN)
        let resizes = DispatchSource.makeSignalSource(signal: SIGWINCH)
        resizes.setEventHandler { continuation.yield(.resize) }
        resizes.resume()
        defer {
            resizes.cancel()
            watching.cancel()
            ticking.cancel()
            input.stop()
            terminal.leave()
        }

        var ticks = 0
        try terminal.enter()
        var session = Session(app: self, terminal: terminal, input: input)
        session.model.filter = filter
        switch notifications {
        case .success(let settings) where settings.isEnabled:
            session.notifier = Notifier(settings: settings, queueRoot: queueRoot, configRoot: configRoot) { text, isError in
                continuation.yield(.notification(text, isError: isError))
            }
        case .success: break
        case .failure(let error):
            session.model.message = .init(text: Escaped(error.description).description, isError: true)
        }
        defer { if let notifier = session.notifier { Task { await notifier.cancelAll() } } }
        if let policy {
            session.rules = PolicyRunner(
                source: policy, queueRoot: queueRoot, configRoot: configRoot, engine: engine
            ) { text, isError in
                continuation.yield(.notification(text, isError: isError))
            }
            session.model.answerNames = (try? policy.current().get())?.answerNames ?? []
            if case .failure(let problem) = policy.current() {
                session.model.message = .init(
                    text: Escaped("policy: \(problem.message); no rule decides anything until it is fixed").description,
                    isError: true)
            }
        }
        // The first screen from the listing cache when it has records (`list` or an
        // earlier console made them): the full read below takes longer at fleet scale.
        let cache = ListingCache.load(queueRoot: queueRoot, environment: ProcessInfo.processInfo.environment)
        let listing = cache.isEmpty ? nil : session.drawPreview(cache)
        session.reload(nil, announce: false)
        if let rules = session.rules { Task { await rules.consider() } }
        session.draw()
        // The cache for the next start: what the preview found, or a listing made now, off the event loop.
        if let listing {
            cache.keep(listing)
        } else {
            let lister = session.lister(cache)
            Task.detached(priority: .utility) { cache.keep(lister.pending(of: (try? lister.queueRoot.bottles()) ?? [])) }
        }
        // After the first screen, not before it: an approval whose apply a crash cut
        // off has a decision, so it is not on the pending list either way.
        if session.finishInterruptedApplies() {
            session.reload(nil, announce: false)
            session.draw()
        }
        for await event in events {
            switch event {
            case .keys(let keys):
                for key in keys {
                    let effects = session.model.handle(key)
                    if effects.contains(.quit) { return }
                    for effect in effects { await session.perform(effect) }
                }
            case .queue(.entry(let slug, let id)): session.refresh(id, of: slug, announce: true)
            case .queue(.bottle(let slug)): session.reload([slug], announce: true)
            case .queue(.all): session.reload(nil, announce: true)
            case .tick:
                // Every few seconds, not per frame: an apply cut off by a crash is finished while the console runs.
                ticks += 1
                if ticks % 5 == 0, session.finishInterruptedApplies() { session.reload(nil, announce: false) }
                // Grants end on time while the console runs, as under `watch`.
                await session.endOverdueGrants()
            case .notification(let text, let isError): session.model.message = .init(text: text, isError: isError)
            case .resize: break
            }
            session.draw()
        }
    }

    enum Event: Sendable {
        case keys([Key])
        case queue(QueueWatch.Change)
        case resize
        case tick
        case notification(String, isError: Bool)
    }

    /// The mutable side of a running console: the model and the things that act on it.
    struct Session {
        let app: ConsoleApp
        let terminal: Terminal
        let input: InputReader
        var model = ConsoleModel()
        /// Announces new proposals on the `[notify]` channels; `nil` when none are set.
        var notifier: Notifier?
        /// Applies the standing rules to new proposals; `nil` without a policy source.
        var rules: PolicyRunner?
        let view = ConsoleView(color: ProcessInfo.processInfo.environment["NO_COLOR"] == nil)

        var root: QueueRoot { QueueRoot(app.queueRoot) }
        var reader: QueueRootReader { QueueRootReader(root: root) }

        /// Finishes applies a crash cut off (``Applier/recoverInterrupted(queueRoot:)``)
        /// and tells the operator; `true` when there were any.
        @discardableResult
        mutating func finishInterruptedApplies() -> Bool {
            let applier = Applier(configRoot: app.configRoot, queueRoot: app.queueRoot)
            guard let finished = try? applier.recoverInterrupted(queueRoot: app.queueRoot), !finished.isEmpty else {
                return false
            }
            model.message = .init(
                text: "finished \(finished.count) interrupted apply(s) as failed (\(finished.map(\.rawValue).joined(separator: ", "))); check the bottles' files",
                isError: true)
            return true
        }

        /// Ends the grants whose deadline passed (``Applier/endOverdueGrants(now:by:)``) and says so.
        mutating func endOverdueGrants() async {
            let applier = Applier(configRoot: app.configRoot, queueRoot: app.queueRoot, engine: app.engine)
            guard let ended = try? await applier.endOverdueGrants(by: "\(OperatorName.current) (console)"),
                let last = ended.last
            else { return }
            if model.screen == .grants { loadGrants() }
            model.message = .init(
                text: "grant \(last.grant.id) of \(last.grant.bottle) ended: \(Escaped(last.outcome.summary))",
                isError: last.outcome.state != .applied)
        }

        mutating func draw() {
            let size = terminal.size
            model.pageRows = max(1, size.rows - 4)
            write(view.render(model, size: size))
        }

        func lister(_ cache: ListingCache) -> FleetListing {
            FleetListing(queueRoot: root, configRoot: ConfigRoot(app.configRoot), cache: cache)
        }

        /// Draws the first screen from a listing through `cache` (``ConsoleView/renderPreview(_:model:size:now:)``).
        /// - Returns: the listing, whose records the cache keeps for next time.
        func drawPreview(_ cache: ListingCache) -> FleetListing.Result {
            let listing = lister(cache).pending(of: reader.bottles())
            write(view.renderPreview(listing.rows, model: model, size: terminal.size))
            return listing
        }

        private func write(_ lines: [String]) {
            var frame = ANSI.home
            for (index, line) in lines.enumerated() {
                frame += line + ANSI.reset + ANSI.clearLine + (index + 1 < lines.count ? "\r\n" : "")
            }
            terminal.write(frame)
        }

        /// Re-reads the given bottles (all when `nil`), keeping proposals decided
        /// meanwhile on screen with their new state.
        mutating func reload(_ bottles: [BottleSlug]?, announce: Bool) {
            let update = model.reload(bottles, from: reader)
            followUp(update, announce: announce, detailOf: nil)
        }

        /// Re-reads one proposal whose file the watcher named: one file read, not the bottle.
        mutating func refresh(_ id: ProposalID, of bottle: BottleSlug, announce: Bool) {
            let update = model.refresh(id, of: bottle, from: reader)
            followUp(update, announce: announce, detailOf: id)
        }

        /// Bell, notifications and the open detail view after an update
        /// (`detailOf`: only when that proposal is the one open; `nil`: any).
        private mutating func followUp(_ update: ConsoleModel.QueueUpdate, announce: Bool, detailOf id: ProposalID?) {
            if !update.arrived.isEmpty, notifier != nil || rules != nil {
                // Never awaited here: a slow receiver (or a rule's reload) must not hold up the screen.
                // The rules go first; a proposal one of them answers is not announced to a human.
                let arrived = update.arrived
                let (notifier, rules) = (self.notifier, self.rules)
                Task {
                    var handled = Set<ProposalID>()
                    for proposal in arrived {
                        handled = await rules?.consider(.entry(proposal.bottle, proposal.id)) ?? handled
                    }
                    await notifier?.notice(arrived.filter { !handled.contains($0.id) })
                }
            }
            if announce, !update.arrived.isEmpty, app.bell { terminal.write(ANSI.bell) }
            if model.screen == .detail, let selected = model.selectedID, id == nil || id == selected {
                prepareDetail(selected, keepScroll: true)
            }
        }

        mutating func perform(_ effect: ConsoleEffect) async {
            switch effect {
            case .quit: break
            case .openDetail(let id): prepareDetail(id, keepScroll: false)
            case .edit(let id): await edit(id)
            case .decide(let id, let status, let notes, let finalFile):
                await decide(id, status, notes: notes, finalFile: finalFile)
            case .loadGrants: loadGrants()
            case .revokeGrant(let id):
                let applier = Applier(configRoot: app.configRoot, queueRoot: app.queueRoot, engine: app.engine)
                do {
                    let end = try await applier.revokeGrant(id)
                    model.message = .init(
                        text: "revoked \(id): \(Escaped(end.outcome.summary))", isError: end.outcome.state != .applied)
                } catch {
                    model.message = .init(text: "nothing revoked: \(error)", isError: true)
                }
                loadGrants()
            case .extendGrant(let id, let duration):
                let applier = Applier(configRoot: app.configRoot, queueRoot: app.queueRoot, engine: app.engine)
                do {
                    let grant = try await applier.extendGrant(id, by: duration)
                    model.message = .init(text: "extended \(id): ends \(Timestamp.format(grant.expiresAt))", isError: false)
                } catch {
                    model.message = .init(text: "not extended: \(error)", isError: true)
                }
                loadGrants()
            }
        }

        /// Reads the live grants for the grants screen, soonest end first.
        mutating func loadGrants() {
            do {
                model.grants = try GrantLedger(queueRoot: app.queueRoot).live().sorted { $0.expiresAt < $1.expiresAt }
            } catch {
                model.grants = []
                model.message = .init(text: "the grant ledger cannot be read: \(error)", isError: true)
            }
        }

        func currentFile(for proposal: Proposal) -> String? {
            let path = app.configRoot.appending(proposal.bottle.rawValue).appending(proposal.tool.configFile.fileName)
            return (try? AtomicFile.read(path)).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) }
        }

        mutating func prepareDetail(_ id: ProposalID, keepScroll: Bool, proposedOverride: String? = nil) {
            guard var entry = model.entries.first(where: { $0.proposal.id == id }) else { return }
            let columns = terminal.size.columns
            var lines: [String] = []
            let proposal = entry.proposal
            let state = entry.stateLine
            lines.append(style(ANSI.bold, "Proposal \(proposal.id)") + "   \(state)")
            lines.append(
                "Bottle \(proposal.bottle)   tool \(proposal.tool.rawValue) → \(proposal.tool.configFile.fileName)   created \(Timestamp.format(proposal.createdAt)) (\(ConsoleView.age(of: proposal.createdAt, now: Date())) ago)"
            )
            if let notes = model.notes[id], !notes.isEmpty { lines.append("Your notes: \(Escaped(notes))") }
            if let answer = model.answers[id], entry.decision == nil { lines.append("Preset answer: \(answer)") }
            if let decision = entry.decision {
                if let rule = decision.decidingRule { lines.append("Decided by the standing rule \(Escaped(rule)), with no human") }
                if let answer = decision.answer { lines.append("Preset answer: \(Escaped(answer))") }
            }
            lines.append("SHA-256 \(entry.proposalSHA256 ?? "-") (what a decision here is bound to)")
            // The list ran only the cheap check; the proposal on show gets the validator too.
            if let problem = entry.problem ?? proposal.contentProblem(), entry.decision == nil {
                lines.append(style(ANSI.bold + ANSI.red, "Refused: \(Escaped(problem)); approving it will fail"))
            }
            lines.append("")
            lines.append(style(ANSI.bold, "Justification"))
            for line in TextLayout.wrap(
                Escaped(proposal.justification, keepLayout: true).description.replacingOccurrences(
                    of: "\t", with: "    "), columns - 2)
            {
                lines.append("  " + line)
            }
            lines.append("")
            if let proposedOverride {
                entry.proposal.proposedFile = proposedOverride
                lines.append(style(ANSI.bold + ANSI.yellow, "Your modified version, against the current file:"))
            }
            if let decision = entry.decision {
                // Decided: what was decided and applied, not a diff against a current file it changed.
                lines += DecisionReview(proposal: proposal, decision: decision, configRoot: app.configRoot).render(
                    color: view.color)
            } else {
                lines += app.reviewer(entry, currentFile(for: proposal), view.color, columns)
            }
            model.detailLines = lines
            if !keepScroll { model.detailScroll = 0 }
        }

        mutating func edit(_ id: ProposalID) async {
            guard let entry = model.entries.first(where: { $0.proposal.id == id }) else { return }
            let proposal = entry.proposal
            let edited: String
            do {
                input.pause()
                terminal.leave()
                defer {
                    try? terminal.enter()
                    input.resume()
                }
                // The editor may stay open for minutes: waited for on a thread of its own, not the pool's.
                let (text, fileName) = (proposal.proposedFile, proposal.tool.configFile.fileName)
                edited = try await BlockingWork.run("editor") { Result { try Editor.edit(text, fileName: fileName) } }.get()
            } catch {
                model.message = .init(text: "editor: \(error)", isError: true)
                return
            }
            guard edited != proposal.proposedFile else {
                model.message = .init(text: "unchanged; press a to approve as proposed", isError: false)
                return
            }
            do throws(ValidationError) {
                try ProposedFileValidator.validate(edited, for: proposal.tool, current: currentFile(for: proposal))
            } catch {
                let first = error.description.split(separator: "\n").first.map(String.init) ?? "\(error)"
                model.message = .init(text: "your version does not validate: \(first) (m to edit again)", isError: true)
                return
            }
            model.selectedID = id
            prepareDetail(id, keepScroll: false, proposedOverride: edited)
            model.underlying = .detail
            model.screen = .confirm(.modify(edited))
            model.message = .init(
                text: "Approve your modified \(proposal.tool.configFile.fileName)? (y/n)", isError: false)
        }

        mutating func decide(_ id: ProposalID, _ status: DecisionStatus, notes: String, finalFile: String?) async {
            guard let entry = model.entries.first(where: { $0.proposal.id == id }) else { return }
            let queue = root.queue(for: entry.proposal.bottle)
            let remember = model.remembering == id && status == .approved
            model.remembering = nil
            // A preset answer's text goes first in the notes; its name goes to the agent as `answer`.
            let policy = try? app.policy?.current().get()
            let answer = model.answers[id]
            var notes = notes
            if let answer {
                guard let text = policy?.answers[answer] else {
                    model.message = .init(text: "no preset answer \(answer) in the settings file any more; nothing decided", isError: true)
                    return
                }
                notes = notes.isEmpty ? text : text + "\n\n" + notes
            }
            // The rule is made before the apply changes the bottle's file (it names what this adds).
            var rule: PolicyRule?
            if remember {
                do throws(PolicyProblem) {
                    guard app.policy != nil, policy != nil else {
                        throw PolicyProblem("the settings file's rules cannot be read; fix them first (policy check)")
                    }
                    rule = try RememberedRules.rule(
                        for: entry.proposal, current: currentFile(for: entry.proposal),
                        grant: model.rememberedGrant(for: id))
                } catch {
                    model.message = .init(text: "not remembered, nothing decided: \(Escaped(error.message))", isError: true)
                    return
                }
            }
            // Bound to the proposal file as this console read and showed it: if the
            // queue's file was replaced since, the apply step refuses.
            let decision = Decision(
                id: id, status: status, notes: notes, finalFile: finalFile, decidedBy: OperatorName.current,
                proposalSHA256: entry.proposalSHA256, answer: answer)
            do {
                let recorded = try await app.decider(
                    decision, entry.proposal, queue, model.grantChoice[id] ?? .asConfigured)
                var text = "\(status.rawValue) \(entry.proposal.tool.rawValue) for \(entry.proposal.bottle)"
                if let apply = recorded.apply { text += " — \(Escaped(apply.summary))" }
                if let end = recorded.expiresAt, recorded.apply?.state == .applied {
                    text += " — until \(Timestamp.format(end))"
                }
                if let rule, let settings = app.policy?.settings, recorded.apply?.state != .failed {
                    do throws(PolicyProblem) {
                        try RememberedRules.append(rule, besides: settings, proposal: id, by: OperatorName.current)
                        text += "; remembered as rule \(rule.name)"
                    } catch {
                        text += "; not remembered: \(Escaped(error.message))"
                    }
                }
                model.message = .init(text: text, isError: recorded.apply?.state == .failed)
            } catch let error as QueueError {
                if case .alreadyDecided(_, let winner) = error {
                    model.message = .init(
                        text: "already \(winner.rawValue): another decision won; nothing was overwritten", isError: true
                    )
                } else {
                    model.message = .init(text: error.description, isError: true)
                }
            } catch {
                model.message = .init(text: "\(error)", isError: true)
            }
            // The outcome of the decision is the line the operator needs; the reload must not replace it.
            let outcome = model.message
            refresh(id, of: entry.proposal.bottle, announce: false)
            model.message = outcome
            if model.screen == .detail { prepareDetail(id, keepScroll: true) }
        }

        private func style(_ sequence: String, _ text: String) -> String {
            view.color ? sequence + text + ANSI.reset : text
        }
    }

    /// The review shown in the detail view: summary, conflict warning and diff (``ProposalReview``).
    public static let review: Reviewer = { entry, current, color, _ in
        ProposalReview(proposal: entry.proposal, currentFile: current).render(color: color)
    }
}
