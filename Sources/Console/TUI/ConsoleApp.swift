import Apply
import Dispatch
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
        @Sendable (_ decision: Decision, _ proposal: Proposal, _ queue: BottleQueue) async throws -> Decision

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
    private let reviewer: Reviewer
    private let decider: Decider

    /// A console over `queueRoot`, diffing against the files under `configRoot`;
    /// approvals are applied with `engine`'s default reload actions.
    public init(
        queueRoot: FilePath, configRoot: FilePath, engine: ContainerEngine = .resolve(), bell: Bool = true,
        filter: String = "",
        notifications: Result<NotifySettings, NotifySettingsError> = .success(NotifySettings()), reviewer: Reviewer? = nil,
        decider: Decider? = nil
    ) {
        self.queueRoot = queueRoot
        self.configRoot = configRoot
        self.bell = bell
        self.filter = filter
        self.notifications = notifications
        self.reviewer = reviewer ?? ConsoleApp.review
        let applier = Applier(configRoot: configRoot, queueRoot: queueRoot, engine: engine)
        self.decider =
            decider ?? { decision, proposal, queue in
                // Approvals are applied (write, reload, record); anything else is recorded as it is.
                if decision.status.isApproval {
                    return try await applier.apply(decision: decision, proposal: proposal, queue: queue)
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
        session.finishInterruptedApplies()
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
        session.reload(nil, announce: false)
        session.draw()
        for await event in events {
            switch event {
            case .keys(let keys):
                for key in keys {
                    let effects = session.model.handle(key)
                    if effects.contains(.quit) { return }
                    for effect in effects { await session.perform(effect) }
                }
            case .queue(.bottle(let slug)): session.reload([slug], announce: true)
            case .queue(.all): session.reload(nil, announce: true)
            case .tick:
                // Every few seconds, not per frame: an apply cut off by a crash is finished while the console runs.
                ticks += 1
                if ticks % 5 == 0, session.finishInterruptedApplies() { session.reload(nil, announce: false) }
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
        let view = ConsoleView(color: ProcessInfo.processInfo.environment["NO_COLOR"] == nil)

        var root: QueueRoot { QueueRoot(app.queueRoot) }

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

        mutating func draw() {
            let size = terminal.size
            model.pageRows = max(1, size.rows - 4)
            let lines = view.render(model, size: size)
            var frame = ANSI.home
            for (index, line) in lines.enumerated() {
                frame += line + ANSI.reset + ANSI.clearLine + (index + 1 < lines.count ? "\r\n" : "")
            }
            terminal.write(frame)
        }

        /// Re-reads the given bottles (all when `nil`), keeping proposals decided
        /// meanwhile on screen with their new state.
        mutating func reload(_ bottles: [BottleSlug]?, announce: Bool) {
            let targets = bottles ?? ((try? root.bottles()) ?? [])
            let shown = Set(model.entries.map(\.proposal.id))
            let targetSet = Set(targets)
            var kept = model.entries.filter { entry in !targetSet.contains(entry.proposal.bottle) }
            var arrived = false
            var damaged = 0
            var firstDamage: QueueError?
            var replaced: ProposalID?
            // Bottles are read in parallel: at a thousand bottles, decoding their
            // queue files is what stands between start and the first screen.
            let scans = Self.scan(targets, in: root)
            for (bottle, scan) in zip(targets, scans) {
                guard let scan else { continue }
                let queue = root.queue(for: bottle)
                damaged += scan.unreadable.count
                firstDamage = firstDamage ?? scan.unreadable.first
                var pending = scan.entries.filter(\.isPending)
                let pendingIDs = Set(pending.map(\.proposal.id))
                arrived = arrived || pending.contains { !shown.contains($0.proposal.id) }
                // The proposal under review (its detail, notes or confirm prompt open)
                // stays as it was shown: a file renamed over it in the queue must not
                // change what the operator is about to decide. The decision stays
                // bound to the shown bytes, so the apply step refuses it.
                if let reviewing = model.reviewingID,
                    let index = pending.firstIndex(where: { $0.proposal.id == reviewing }),
                    let shownEntry = model.entries.first(where: { $0.proposal.id == reviewing })
                {
                    if pending[index].proposalSHA256 != shownEntry.proposalSHA256 {
                        replaced = reviewing
                    }
                    var keptEntry = shownEntry
                    keptEntry.waiting = pending[index].waiting
                    pending[index] = keptEntry
                }
                kept += pending
                for var old in model.entries
                where old.proposal.bottle == bottle && !pendingIDs.contains(old.proposal.id) {
                    if old.decision == nil { old.decision = try? queue.decision(old.proposal.id) }
                    old.waiting = false
                    old.stoppedWaitingAt = nil
                    if old.decision != nil { kept.append(old) }
                }
            }
            kept.sort { ($0.proposal.createdAt, $0.proposal.id) < ($1.proposal.createdAt, $1.proposal.id) }
            model.entries = kept
            if let notifier {
                // Never awaited here: a slow receiver must not hold up the screen or a decision.
                let pending = kept.filter(\.isPending).map(\.proposal)
                Task { await notifier.notice(pending) }
            }
            if model.selectedID == nil || !kept.contains(where: { $0.proposal.id == model.selectedID }) {
                model.selectedID =
                    model.visible.first(where: \.isPending)?.proposal.id ?? model.visible.first?.proposal.id
            }
            if damaged > 0 {
                model.message = .init(
                    text: "\(damaged) queue file(s) skipped (\(firstDamage.map { "\($0)" } ?? "")); see `bottle-supervise list`",
                    isError: true)
            }
            if let replaced {
                model.message = .init(
                    text: "proposal \(replaced) was replaced in the queue while you reviewed it; deciding it will be refused",
                    isError: true)
            }
            if announce, arrived, app.bell { terminal.write(ANSI.bell) }
            if model.screen == .detail, let id = model.selectedID { prepareDetail(id, keepScroll: true) }
        }

        static func scan(_ bottles: [BottleSlug], in root: QueueRoot) -> [(
            entries: [QueueEntry], unreadable: [QueueError]
        )?] {
            let results = ScanResults(count: bottles.count)
            DispatchQueue.concurrentPerform(iterations: bottles.count) { index in
                results.set(index, try? root.queue(for: bottles[index]).scan(archived: false))
            }
            return results.values
        }

        mutating func perform(_ effect: ConsoleEffect) async {
            switch effect {
            case .quit: break
            case .openDetail(let id): prepareDetail(id, keepScroll: false)
            case .edit(let id): edit(id)
            case .decide(let id, let status, let notes, let finalFile):
                await decide(id, status, notes: notes, finalFile: finalFile)
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
            let state =
                entry.decision.map { "\($0.status.rawValue) by \(Escaped($0.decidedBy))" }
                ?? "pending; \(entry.attendance)"
            lines.append(style(ANSI.bold, "Proposal \(proposal.id)") + "   \(state)")
            lines.append(
                "Bottle \(proposal.bottle)   tool \(proposal.tool.rawValue) → \(proposal.tool.configFile.fileName)   created \(Timestamp.format(proposal.createdAt)) (\(ConsoleView.age(of: proposal.createdAt, now: Date())) ago)"
            )
            if let notes = model.notes[id], !notes.isEmpty { lines.append("Your notes: \(Escaped(notes))") }
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

        mutating func edit(_ id: ProposalID) {
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
                edited = try Editor.edit(proposal.proposedFile, fileName: proposal.tool.configFile.fileName)
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
            // Bound to the proposal file as this console read and showed it: if the
            // queue's file was replaced since, the apply step refuses.
            let decision = Decision(
                id: id, status: status, notes: notes, finalFile: finalFile, decidedBy: OperatorName.current,
                proposalSHA256: entry.proposalSHA256)
            do {
                let recorded = try await app.decider(decision, entry.proposal, queue)
                var text = "\(status.rawValue) \(entry.proposal.tool.rawValue) for \(entry.proposal.bottle)"
                if let apply = recorded.apply { text += " — \(Escaped(apply.summary))" }
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
            reload([entry.proposal.bottle], announce: false)
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

/// Per-bottle scan results filled in from parallel workers, one slot each.
private final class ScanResults: @unchecked Sendable {
    // @unchecked: each worker writes only its own slot, under the lock.
    private let lock = NSLock()
    private var slots: [(entries: [QueueEntry], unreadable: [QueueError])?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: (entries: [QueueEntry], unreadable: [QueueError])?) {
        lock.withLock { slots[index] = value }
    }

    var values: [(entries: [QueueEntry], unreadable: [QueueError])?] { lock.withLock { slots } }
}
