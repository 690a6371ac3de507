import Apply
import Queue
import Risk

/// One standing rule of the operator's policy (`[[policy.rule]]` in
/// host.toml, docs/policy.md): which proposals it is about, and what it
/// does with them.
///
/// Rules are tried in order and the first that matches a proposal decides
/// what happens to it; `ask` stops the search and leaves the proposal to a
/// human. A rule never lowers the floors (``PolicyEvaluator``): a critical
/// risk hint, or a Dockerfile without `capability = true`, always asks.
public struct PolicyRule: Sendable, Equatable {
    /// What a matching rule does.
    public enum Action: String, Sendable, CaseIterable {
        /// Approve and apply at once, as an operator's `approve` would.
        case approve
        /// Reject at once, with the rule's preset answer as the notes.
        case reject
        /// Leave it to a human (the default; stops the search).
        case ask
    }

    /// The rule's name, unique in the policy: decisions it makes are by `policy:<name>`.
    public var name: String
    /// Glob patterns (`*`, `?`) over bottle slugs; `nil`: every bottle.
    public var bottles: [String]?
    /// The tools the rule is about; `nil`: every tool.
    public var tools: Set<Tool>?
    /// For `pipelock-block`: the hosts the proposal may add.
    public var hosts: [HostPattern]?
    /// For `cred-proxy-block`: the upstream hosts an added route may reach.
    public var upstreams: [HostPattern]?
    /// For `cred-proxy-block`: the credential names an added route may attach.
    public var credentials: Set<String>?
    /// For `cred-proxy-block`: the methods an added route may allow (upper case).
    public var methods: Set<String>?
    /// For `cred-proxy-block`: exact routes an added route may be (as JSON values).
    public var routes: [JSONValue]?
    /// For `cred-proxy-block`: whether an added route matched by `upstreams`
    /// may send a credential to an upstream that is not `https://` (where
    /// it crosses the network in cleartext). Off unless written
    /// (`allow_http = true`).
    public var allowHTTP = false
    /// The highest risk hint a matching proposal may carry: `notice` or `warning`.
    public var maxRisk: RiskSeverity = .notice
    /// Whether the rule may decide a Dockerfile (`capability-block`) proposal.
    public var capability = false
    /// What it does.
    public var action: Action = .ask
    /// How long an approval holds (`for`); `nil`: as long as any approval.
    public var grant: GrantDuration?
    /// The preset answer (`[answers]`) whose text is the decision's notes.
    public var answer: String?
    /// For `ask`: how many distinct operators must approve a matching
    /// proposal decided through the fleet (`approvals = N`, 1 to
    /// ``maximumApprovals``); `nil`: not written (one).
    public var approvals: Int?
    /// Where the rule is written: `host.toml:14`, for messages and `explain`.
    public var origin: String

    /// The most approvals a rule may ask for (as `[fleet] approvals`).
    public static let maximumApprovals = 16

    public init(name: String, origin: String) {
        self.name = name
        self.origin = origin
    }

    /// Whether the rule names something a proposal could add (hosts, upstreams or routes).
    public var namesChanges: Bool { hosts != nil || upstreams != nil || routes != nil }

    /// Whether the rule is about `bottle`.
    public func covers(bottle: BottleSlug) -> Bool {
        guard let bottles else { return true }
        return bottles.contains { BottleGlob.matches($0, bottle.rawValue) }
    }

    /// Whether the rule is about `tool`.
    public func covers(tool: Tool) -> Bool { tools?.contains(tool) ?? true }
}

/// Shell-style globs over bottle slugs: `*` any run of characters, `?` one
/// character, everything else itself. (Slugs hold no `/`, so there is no
/// path semantics to get wrong.)
enum BottleGlob {
    /// The characters a bottle glob may hold: a slug's, and `*` and `?`.
    static func isValid(_ pattern: String) -> Bool {
        !pattern.isEmpty && pattern.utf8.count <= 128
            && pattern.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                    UInt8(ascii: "*"), UInt8(ascii: "?"):
                    true
                default: false
                }
            }
    }

    /// Whether `pattern` matches all of `text` (iterative, linear in practice: one backtrack point).
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var i = 0, j = 0
        var star = -1, mark = 0
        while j < t.count {
            if i < p.count, p[i] == UInt8(ascii: "?") || p[i] == t[j] {
                i += 1
                j += 1
            } else if i < p.count, p[i] == UInt8(ascii: "*") {
                star = i
                mark = j
                i += 1
            } else if star >= 0 {
                i = star + 1
                mark += 1
                j = mark
            } else {
                return false
            }
        }
        while i < p.count, p[i] == UInt8(ascii: "*") { i += 1 }
        return i == p.count
    }
}
