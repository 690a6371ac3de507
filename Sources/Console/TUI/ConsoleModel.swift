import Apply
import Foundation
import Queue

/// Everything the console shows, and what each key does to it.
///
/// Pure state and a pure key handler: the event loop (``ConsoleApp``) feeds
/// keys in and carries out the ``ConsoleEffect``s that come back (deciding,
/// opening an editor, quitting), so the whole interaction can be tested
/// without a terminal.
public struct ConsoleModel: Sendable {
    /// The screen on show.
    public enum Screen: Equatable, Sendable {
        case list
        case detail
        case help
        /// A one-line input at the bottom: what it is for, and the text typed so far.
        case input(InputPurpose, String)
        /// A yes/no question about the selected proposal.
        case confirm(Confirmation)
        /// The live time-boxed grants (`g`): revoke or extend one.
        case grants
    }

    /// What a one-line input is for.
    public enum InputPurpose: Equatable, Sendable {
        case filter
        case rejectNotes
        case notes
    }

    /// What a yes/no question confirms.
    public enum Confirmation: Equatable, Sendable {
        case approve
        /// Approve, and add a standing rule for exactly what it adds in this bottle (`A`).
        case approveAndRemember
        /// Approve this edited file.
        case modify(String)
    }

    /// A line for the operator at the bottom of the screen.
    public struct Message: Equatable, Sendable {
        public var text: String
        public var isError: Bool
    }

    /// Proposals on show, oldest first: the pending ones, plus those decided
    /// while the console was open (kept in place, with their new state).
    public var entries: [QueueEntry] = []
    /// The selected proposal.
    public var selectedID: ProposalID?
    /// Only proposals whose bottle or tool contains this text are listed.
    public var filter = ""
    /// The screen on show.
    public var screen: Screen = .list
    /// The screen under a help overlay, an input or a question.
    public var underlying: Screen = .list
    /// The bottom line.
    public var message: Message?
    /// Notes typed for a proposal, sent with its decision.
    public var notes: [ProposalID: String] = [:]
    /// The preset answers' names (`[answers]` in host.toml), for `p`; set by the event loop.
    public var answerNames: [String] = []
    /// The preset answer picked for a proposal, sent with its decision (text as the notes, name as `answer`).
    public var answers: [ProposalID: String] = [:]
    /// The proposal whose approval should also add a standing rule (``Confirmation/approveAndRemember``).
    public var remembering: ProposalID?
    /// The detail view's lines (justification, summary, diff), prepared by the event loop.
    public var detailLines: [String] = []
    /// The first detail line on screen.
    public var detailScroll = 0
    /// Rows available to the detail view's body, for paging.
    public var pageRows = 20
    /// How long each approval lasts, as chosen at its confirmation (`y`: the
    /// bottle's default; `1`, `8`: hours; `A`: always). The event loop passes
    /// it with the decision.
    public var grantChoice: [ProposalID: GrantRequest] = [:]
    /// The live grants on the grants screen, soonest end first (loaded by the event loop).
    public var grants: [Grant] = []
    /// The grant selected on the grants screen.
    public var selectedGrantID: ProposalID?

    public init() {}

    /// The proposal being reviewed: the selected one while its detail view,
    /// an input about it or a question about it is open. The console keeps
    /// it exactly as shown until the operator goes back to the list.
    public var reviewingID: ProposalID? {
        switch screen {
        case .list, .grants: nil
        case .help: underlying == .list || underlying == .grants ? nil : selectedID
        case .detail, .input(.notes, _), .input(.rejectNotes, _), .confirm: selectedID
        case .input(.filter, _): underlying == .list ? nil : selectedID
        }
    }

    /// The proposals that pass the filter.
    public var visible: [QueueEntry] {
        guard !filter.isEmpty else { return entries }
        return entries.filter { Self.passes(filter, bottle: $0.proposal.bottle, tool: $0.proposal.tool) }
    }

    /// Whether a proposal of `bottle` and `tool` passes `filter`: its bottle or tool contains it.
    static func passes(_ filter: String, bottle: BottleSlug, tool: Tool) -> Bool {
        filter.isEmpty || bottle.rawValue.lowercased().contains(filter.lowercased())
            || tool.rawValue.contains(filter.lowercased())
    }

    /// The selected entry, if it is visible.
    public var selected: QueueEntry? {
        visible.first { $0.proposal.id == selectedID } ?? visible.first
    }

    /// Whether the selected proposal can still be decided: it has no decision
    /// and its deadline has not passed. The footer offers a, m, r and n only then.
    public var selectedIsDecidable: Bool {
        guard let entry = selected else { return false }
        return entry.decision == nil && !entry.proposal.isExpired()
    }

    /// The number of pending proposals and of bottles that have one.
    public var pendingSummary: (proposals: Int, bottles: Int) {
        let pending = entries.filter(\.isPending)
        return (pending.count, Set(pending.map(\.proposal.bottle)).count)
    }

    /// Applies a key; returns what the event loop must do.
    public mutating func handle(_ key: Key) -> [ConsoleEffect] {
        if key == .control("c") { return [.quit] }
        switch screen {
        case .help:
            screen = underlying
            return []
        case .input(let purpose, let text):
            return handleInput(key, purpose: purpose, text: text)
        case .confirm(let confirmation):
            return handleConfirm(key, confirmation)
        case .list, .detail:
            return handleBrowse(key)
        case .grants:
            return handleGrants(key)
        }
    }

    /// The selected grant on the grants screen.
    public var selectedGrant: Grant? {
        grants.first { $0.id == selectedGrantID } ?? grants.first
    }

    /// The extension keys of the grants screen: each makes the grant end that long from now.
    public static let extendKeys: [(key: Character, duration: GrantDuration, label: String)] = [
        ("e", GrantDuration(seconds: 3_600)!, "1 hour"), ("E", GrantDuration(seconds: 8 * 3_600)!, "8 hours"),
    ]

    private mutating func handleGrants(_ key: Key) -> [ConsoleEffect] {
        switch key {
        case .escape, .left, .character("q"), .character("g"):
            screen = .list
            return []
        case .character("?"):
            underlying = screen
            screen = .help
            return []
        case .up, .character("k"), .down, .character("j"):
            guard !grants.isEmpty else { return [] }
            let current = grants.firstIndex { $0.id == selectedGrant?.id } ?? 0
            let step = (key == .up || key == .character("k")) ? -1 : 1
            selectedGrantID = grants[max(0, min(grants.count - 1, current + step))].id
            return []
        case .character("x"):
            guard let grant = selectedGrant else { return [] }
            selectedGrantID = grant.id
            return [.revokeGrant(grant.id)]
        case .character(let character):
            guard let grant = selectedGrant, let choice = Self.extendKeys.first(where: { $0.key == character }) else {
                return []
            }
            selectedGrantID = grant.id
            return [.extendGrant(grant.id, choice.duration)]
        default:
            return []
        }
    }

    private mutating func handleBrowse(_ key: Key) -> [ConsoleEffect] {
        let inDetail = screen == .detail
        switch key {
        case .character("q"):
            if inDetail {
                screen = .list
                return []
            }
            return [.quit]
        case .escape, .left:
            if inDetail {
                screen = .list
            } else if !filter.isEmpty {
                filter = ""
                message = nil
            }
            return []
        case .character("?"):
            underlying = screen
            screen = .help
            return []
        case .character("/"):
            underlying = screen
            screen = .input(.filter, filter)
            return []
        case .up, .character("k"):
            if inDetail { scroll(by: -1) } else { moveSelection(by: -1) }
            return []
        case .down, .character("j"):
            if inDetail { scroll(by: 1) } else { moveSelection(by: 1) }
            return []
        case .pageUp:
            if inDetail { scroll(by: -pageRows) } else { moveSelection(by: -pageRows) }
            return []
        case .pageDown, .character(" "):
            if inDetail { scroll(by: pageRows) } else { moveSelection(by: pageRows) }
            return []
        case .home:
            if inDetail { detailScroll = 0 } else { selectedID = visible.first?.proposal.id }
            return []
        case .end:
            if inDetail { scroll(by: detailLines.count) } else { selectedID = visible.last?.proposal.id }
            return []
        case .enter, .right:
            guard let entry = selected else { return [] }
            selectedID = entry.proposal.id
            detailScroll = 0
            screen = .detail
            return [.openDetail(entry.proposal.id)]
        case .character("a"):
            guard let entry = decidable() else { return [] }
            underlying = screen
            screen = .confirm(.approve)
            message = Message(
                text: "Approve \(entry.proposal.tool.rawValue) for \(entry.proposal.bottle)? (y/n)", isError: false)
            return []
        case .character("A"):
            guard let entry = decidable() else { return [] }
            underlying = screen
            screen = .confirm(.approveAndRemember)
            message = Message(
                text: "Approve \(entry.proposal.tool.rawValue) for \(entry.proposal.bottle), and approve exactly this again here by a standing rule? (y/n)",
                isError: false)
            return []
        case .character("p"):
            guard let entry = decidable() else { return [] }
            guard !answerNames.isEmpty else {
                message = Message(text: "no preset answers: add an [answers] table to the settings file", isError: true)
                return []
            }
            let id = entry.proposal.id
            let next = answers[id].flatMap { answerNames.firstIndex(of: $0) }.map { $0 + 1 } ?? 0
            answers[id] = next < answerNames.count ? answerNames[next] : nil
            message = Message(
                text: answers[id].map { "preset answer: \($0) (goes with a, m or r; p for the next)" }
                    ?? "no preset answer (p to pick one)",
                isError: false)
            return []
        case .character("r"):
            guard decidable() != nil else { return [] }
            underlying = screen
            screen = .input(.rejectNotes, notes[selectedID!] ?? "")
            return []
        case .character("n"):
            // Notes go with a decision: none for a proposal that can't be decided any more.
            guard let entry = decidable() else { return [] }
            underlying = screen
            screen = .input(.notes, notes[entry.proposal.id] ?? "")
            return []
        case .character("m"):
            guard let entry = decidable() else { return [] }
            return [.edit(entry.proposal.id)]
        case .character("g"):
            screen = .grants
            return [.loadGrants]
        default:
            return []
        }
    }

    private mutating func handleInput(_ key: Key, purpose: InputPurpose, text: String) -> [ConsoleEffect] {
        switch key {
        case .escape:
            screen = underlying
            message = nil
            return []
        case .backspace:
            screen = .input(purpose, String(text.dropLast()))
            return []
        case .character(let character):
            screen = .input(purpose, text + String(character))
            if purpose == .filter { filter = text + String(character) }
            return []
        case .enter:
            screen = underlying
            switch purpose {
            case .filter:
                filter = text
                message = nil
                return []
            case .notes:
                if let id = selectedID { notes[id] = text }
                message = Message(
                    text: text.isEmpty ? "notes cleared" : "notes saved; they go with your decision", isError: false)
                return []
            case .rejectNotes:
                guard let id = selectedID else { return [] }
                guard !text.trimmingCharacters(in: .whitespaces).isEmpty || answers[id] != nil else {
                    message = Message(text: "a rejection needs notes or a preset answer (p): tell the agent why", isError: true)
                    return []
                }
                notes[id] = text
                return [.decide(id, .rejected, notes: text, finalFile: nil)]
            }
        default:
            return []
        }
    }

    /// The duration keys of an approval's confirmation, for a proposal that can be time-boxed (not a Dockerfile).
    public static let grantKeys: [(key: Character, grant: GrantRequest, label: String)] = [
        ("1", .lasting(GrantDuration(seconds: 3_600)!), "1 hour"),
        ("8", .lasting(GrantDuration(seconds: 8 * 3_600)!), "8 hours"),
        ("A", .permanent, "always"),
    ]

    /// How long a rule remembered with proposal `id`'s approval lets its approvals last: the
    /// duration key pressed on the confirmation (`1`, `8`), `nil` (for good) otherwise. A rule
    /// remembered from a time-boxed approval must grant for that time too, not for good.
    public func rememberedGrant(for id: ProposalID) -> GrantDuration? {
        if case .lasting(let duration)? = grantChoice[id] { return duration }
        return nil
    }

    /// Whether the selected proposal's approval can be time-boxed.
    public var selectedIsGrantable: Bool { selected.map { $0.proposal.tool != .capabilityBlock } ?? false }

    private mutating func handleConfirm(_ key: Key, _ confirmation: Confirmation) -> [ConsoleEffect] {
        screen = underlying
        message = nil
        if case .character(let character) = key, selectedIsGrantable, let id = selectedID,
            let choice = Self.grantKeys.first(where: { $0.key == character })
        {
            grantChoice[id] = choice.grant
            switch confirmation {
            case .approve: return [.decide(id, .approved, notes: notes[id] ?? "", finalFile: nil)]
            case .approveAndRemember:
                remembering = id
                return [.decide(id, .approved, notes: notes[id] ?? "", finalFile: nil)]
            case .modify(let file): return [.decide(id, .modified, notes: notes[id] ?? "", finalFile: file)]
            }
        }
        if let id = selectedID { grantChoice[id] = .asConfigured }
        guard key == .character("y") || key == .character("Y"), let id = selectedID else {
            message = Message(text: "nothing decided", isError: false)
            if case .modify = confirmation, let id = selectedID { return [.openDetail(id)] }
            return []
        }
        switch confirmation {
        case .approve:
            return [.decide(id, .approved, notes: notes[id] ?? "", finalFile: nil)]
        case .approveAndRemember:
            remembering = id
            return [.decide(id, .approved, notes: notes[id] ?? "", finalFile: nil)]
        case .modify(let file):
            return [.decide(id, .modified, notes: notes[id] ?? "", finalFile: file)]
        }
    }

    /// The selected entry if it can still be decided; otherwise says why not.
    private mutating func decidable() -> QueueEntry? {
        guard let entry = selected else { return nil }
        selectedID = entry.proposal.id
        if let decision = entry.decision {
            message = Message(
                text: "already \(decision.status.rawValue) (by \(Escaped(decision.decidedBy))); it can't be decided",
                isError: true)
            return nil
        }
        if entry.proposal.isExpired() {
            message = Message(text: "expired: its deadline passed undecided; it can't be decided", isError: true)
            return nil
        }
        return entry
    }

    private mutating func moveSelection(by offset: Int) {
        let list = visible
        guard !list.isEmpty else { return }
        let current = list.firstIndex { $0.proposal.id == selectedID } ?? 0
        selectedID = list[max(0, min(list.count - 1, current + offset))].proposal.id
    }

    private mutating func scroll(by offset: Int) {
        detailScroll = max(0, min(max(0, detailLines.count - pageRows), detailScroll + offset))
    }
}

/// What the event loop must do after a key.
public enum ConsoleEffect: Equatable, Sendable {
    case quit
    /// Prepare the detail view's lines for this proposal.
    case openDetail(ProposalID)
    /// Open the operator's editor on the proposed file.
    case edit(ProposalID)
    /// Decide the proposal.
    case decide(ProposalID, DecisionStatus, notes: String, finalFile: String?)
    /// Read the live grants for the grants screen.
    case loadGrants
    /// End a grant now.
    case revokeGrant(ProposalID)
    /// Make a grant end this long from now.
    case extendGrant(ProposalID, GrantDuration)
}
