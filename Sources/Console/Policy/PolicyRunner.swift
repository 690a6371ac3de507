import Apply
import FileAccess
import Foundation
import Logging
import Queue
import SystemPackage

/// Applies the standing rules to pending proposals: the one service every
/// host process runs (the console, `web`, `notify`, and `watch`), with one
/// entry point, ``consider(_:)``, fed the queue's changes.
///
/// Each proposal is decided by a rule at most once across all of them: the
/// process that takes the marker `<queue root>/.policy-decided/<slug>.<id>`
/// (an exclusive create, as for notifications) decides; the others see it
/// taken. A marker that cannot be made means no rule decides (the human
/// does) — unlike a notification, a decision is never worth making twice.
///
/// A rule's decision goes through the same path as an operator's — the
/// ``Applier`` (conflict check, the exactly-one claim, write, reload,
/// audit) — with `decided_by = "policy:<rule>"`, bound to the proposal's
/// bytes as read, so the held call is answered at once. A policy that cannot
/// be read or parsed decides nothing, and ``problem`` says why.
public actor PolicyRunner {
    /// A line for the operator: a rule's decision, or why rules are off.
    public typealias StatusHandler = @Sendable (_ text: String, _ isError: Bool) -> Void
    /// Records a rule's decision; `grant` is the rule's `for`, which the
    /// grants ledger time-boxes the approval by (`nil`: the bottle's default).
    public typealias Decider =
        @Sendable (_ decision: Decision, _ proposal: Proposal, _ queue: BottleQueue, _ grant: GrantDuration?) async throws
        -> Decision

    private let source: PolicySource
    private let root: QueueRoot
    private let configRoot: ConfigRoot
    private let marker: NotificationMarker
    private let decider: Decider
    private let onStatus: StatusHandler
    private let logger: Logger
    /// Proposals already decided by this runner, or whose verdict was "ask" under policy generation N.
    private var settled: [ProposalID: Int] = [:]
    private var generation = 0
    private var lastPolicy: HostPolicy?
    private var reportedProblem: String?
    private var decisions: [Task<Void, Never>] = []
    /// Proposals a rule is deciding or decided (here, or in another process that took the marker).
    private var handled: Set<ProposalID> = []

    /// A runner over the queues under `queueRoot`, applying into `configRoot`.
    public init(
        source: PolicySource, queueRoot: FilePath, configRoot: FilePath, engine: ContainerEngine = .resolve(),
        logger: Logger = Logger(label: "bottle-supervise.policy"), onStatus: @escaping StatusHandler = { _, _ in },
        decider: Decider? = nil
    ) {
        self.source = source
        self.root = QueueRoot(queueRoot)
        self.configRoot = ConfigRoot(configRoot)
        self.marker = NotificationMarker(queueRoot: queueRoot.string, folder: ".policy-decided")
        self.onStatus = onStatus
        self.logger = logger
        let applier = Applier(configRoot: configRoot, queueRoot: queueRoot, engine: engine, logger: logger)
        self.decider =
            decider ?? { decision, proposal, queue, grant in
                if decision.status.isApproval {
                    // A rule's `for` time-boxes the approval; without one, the bottle's `[grants]` default holds.
                    return try await applier.apply(
                        decision: decision, proposal: proposal, queue: queue,
                        grant: grant.map(GrantRequest.lasting) ?? .asConfigured)
                }
                try applier.record(decision, of: proposal, queue: queue)
                return decision
            }
        marker.prune()
    }

    /// Why no rule decides anything now (the policy cannot be read or parsed); `nil` when the policy is in use.
    public func problem() -> String? {
        if case .failure(let problem) = source.current() { return problem.message }
        return nil
    }

    /// Looks at the pending proposals a queue change names (`nil`: every
    /// bottle), decides those a rule matches, and returns at once the ids of
    /// every proposal a rule has taken (these and earlier ones); the decisions
    /// (an apply, a reload) run on and report through `onStatus`. Give the
    /// notifier what is left: a proposal a rule answers needs no human.
    @discardableResult
    public func consider(_ change: QueueWatch.Change? = nil) -> Set<ProposalID> {
        let policy: HostPolicy
        switch source.current() {
        case .failure(let problem):
            if reportedProblem != problem.message {
                reportedProblem = problem.message
                let text = "policy: \(problem.message); no rule decides anything until it is fixed (every proposal asks)"
                logger.error("\(text)")
                onStatus(Escaped(text).description, true)
            }
            return []
        case .success(let loaded):
            if reportedProblem != nil {
                reportedProblem = nil
                onStatus("policy: the rules are readable again and in use", false)
            }
            if loaded != lastPolicy {
                lastPolicy = loaded
                generation += 1
            }
            policy = loaded
        }
        guard !policy.rules.isEmpty else { return handled }
        for entry in pendingEntries(change) where entry.problem == nil {
            let id = entry.proposal.id
            if isSettled(id) { continue }
            if let rule = verdict(entry, policy: policy) {
                settled[id] = Int.max
                handled.insert(id)
                guard claim(entry) else { continue }
                decide(entry, by: rule, policy: policy)
            } else {
                settled[id] = generation
            }
        }
        decisions.removeAll { $0.isCancelled }
        if settled.count > 100_000 {  // bounded; re-evaluating is only slower, and the markers still hold
            settled.removeAll()
            handled.removeAll()
        }
        return handled
    }

    /// Waits for every decision started so far (for shutdown and tests).
    public func drain() async {
        let running = decisions
        decisions = []
        for task in running { await task.value }
    }

    /// Whether `id` needs no new verdict: a rule took it, or it asked under the policy in use now.
    private func isSettled(_ id: ProposalID) -> Bool {
        guard let at = settled[id] else { return false }
        return at == generation || at == Int.max
    }

    /// A proposal whose rule decision was not made: no longer kept from the notifier.
    private func release(_ id: ProposalID) {
        handled.remove(id)
    }

    // MARK: - Steps

    private func pendingEntries(_ change: QueueWatch.Change?) -> [QueueEntry] {
        switch change {
        case .entry(let bottle, let id)?:
            // Most changes to a proposal's name come after a verdict: its decision linked, its outcome
            // recorded, its archiving. Reading (and validating) it again for each would be wasted work
            // on the path from one proposal to the next rule decision.
            if isSettled(id) { return [] }
            guard let entry = try? root.queue(for: bottle).entry(id), entry.isPending, !entry.archived else { return [] }
            return [entry]
        case .bottle(let bottle)?:
            return ((try? root.queue(for: bottle).scan(archived: false).entries) ?? []).filter(\.isPending)
        case .all?, nil:
            let bottles = (try? root.bottles()) ?? []
            return bottles.flatMap { ((try? root.queue(for: $0).scan(archived: false).entries) ?? []).filter(\.isPending) }
        }
    }

    /// The rule that decides `entry` (approve or reject), or `nil` for ask.
    private func verdict(_ entry: QueueEntry, policy: HostPolicy) -> PolicyRule? {
        let current: String?
        do throws(FileAccessError) {
            current = try configRoot.current(entry.proposal.tool.configFile, for: entry.proposal.bottle)
        } catch {
            return nil
        }
        return PolicyEvaluator.evaluate(entry.proposal, current: current, policy: policy).rule
    }

    private func claim(_ entry: QueueEntry) -> Bool {
        switch marker.claim(entry.proposal.id, of: entry.proposal.bottle) {
        case .claimed: return true
        case .taken: return false
        case .unavailable(let reason):
            onStatus(Escaped("policy: cannot claim \(entry.proposal.id) (\(reason)); a human decides it").description, true)
            return false
        }
    }

    private func decide(_ entry: QueueEntry, by rule: PolicyRule, policy: HostPolicy) {
        let proposal = entry.proposal
        let answerText = rule.answer.flatMap { policy.answers[$0] }
        let status: DecisionStatus = rule.action == .approve ? .approved : .rejected
        let notes = answerText ?? "\(status == .approved ? "approved" : "rejected") by the operator's standing rule \(rule.name)"
        let decision = Decision(
            id: proposal.id, status: status, notes: notes, decidedBy: Decision.policyPrefix + rule.name,
            proposalSHA256: entry.proposalSHA256, answer: rule.answer)
        let queue = root.queue(for: proposal.bottle)
        let decider = self.decider
        let grant = rule.action == .approve ? rule.grant : nil
        let onStatus = self.onStatus
        let logger = self.logger
        decisions.append(
            Task {
                let what = "rule \(rule.name) \(status.rawValue) \(proposal.tool.rawValue) for \(proposal.bottle) (\(proposal.id))"
                do {
                    let recorded = try await decider(decision, proposal, queue, grant)
                    let outcome = recorded.apply.map { " — \($0.summary)" } ?? ""
                    logger.info("\(what)\(outcome)")
                    onStatus(Escaped("policy: \(what)\(outcome)").description, recorded.apply?.state == .failed)
                } catch {
                    // Nothing was decided (another decision won, the file changed, the reload setup is
                    // wrong): the proposal stays with the human, who is told why — and, from the next
                    // look at the queue on, announced like any other.
                    self.release(proposal.id)
                    logger.warning("\(what) not made: \(error)")
                    onStatus(Escaped("policy: \(what) not made: \(error); a human decides it").description, true)
                }
            })
    }
}
