import Console
import Foundation
import Logging
import Queue
import Risk
import Synchronization
import SystemPackage

/// How many operators this host's proposals need, worked out by its relay
/// with the host's own settings: the higher of `[fleet] approvals` (for a
/// proposal with a critical risk hint) and the `approvals` of the first ask
/// rule of `[[policy.rule]]` matching the proposal
/// (``PolicyEvaluator/approvalsRule(for:current:policy:)``), and 1.
///
/// Read through the readers the host's console uses (``PolicySource``,
/// ``FleetWebSettings``), again whenever the settings file (or the
/// remembered rules) change, as the rule runner does: an edit applies to the
/// next proposal the relay mirrors, without a restart.
///
/// A settings file that stops parsing does not lower anything: the last
/// settings that parsed stay in force (and the relay says what is wrong, once
/// per version of the file); with none yet, the defaults (1).
public final class HostApprovalPolicy: Sendable {
    private struct Loaded {
        var stamp: [Int64] = []
        var policy = HostPolicy()
        var critical = 1
    }

    private let settings: FilePath
    private let stamped: [String]
    private let logger: Logger
    private let loaded = Mutex(Loaded())

    /// The approvals of the host whose settings file is `settings`.
    public init(settings: FilePath, logger: Logger) {
        self.settings = settings
        self.stamped = [settings.string, RememberedRules.path(besides: settings).string]
        self.logger = logger
    }

    /// What `proposal` needs, given the bottle's current file.
    public func approvals(for proposal: Proposal, hints: [RiskHint], current: String?) -> HostApprovals {
        let (policy, critical) = now()
        let byHint = hints.highestSeverity == .critical ? critical : 1
        let rule = PolicyEvaluator.approvalsRule(for: proposal, current: current, policy: policy)
        let byRule = rule.map { $0.approvals ?? 1 } ?? 1
        // What a Modify needs: a final file may be critical, or held by a rule the proposal is not.
        let modify = max(critical, PolicyEvaluator.modifyApprovals(for: proposal, policy: policy))
        return byRule > 1 && byRule >= byHint
            ? HostApprovals(required: byRule, rule: rule?.name, critical: modify)
            : HostApprovals(required: byHint, critical: modify)
    }

    /// The policy and `[fleet] approvals` as the files are now (read again when they changed).
    private func now() -> (HostPolicy, Int) {
        let stamp = stamped.flatMap(PolicySource.stamp)
        return loaded.withLock { loaded in
            guard stamp != loaded.stamp || loaded.stamp.isEmpty else { return (loaded.policy, loaded.critical) }
            loaded.stamp = stamp
            do {
                let policy = try HostPolicy.load(settings: settings)
                let critical = try FleetWebSettings.threshold(from: settings).critical
                loaded.policy = policy
                loaded.critical = critical
            } catch {
                logger.error(
                    "the approvals this host's proposals need are worked out with the last settings that read",
                    metadata: ["settings": "\(settings)", "error": "\(Self.message(error))"])
            }
            return (loaded.policy, loaded.critical)
        }
    }

    private static func message(_ error: any Error) -> String {
        if let problem = error as? PolicyProblem { return problem.message }
        if let problem = error as? FleetSettingsError { return problem.message }
        return "\(error)"
    }
}
