import Apply
import FileAccess
import Foundation
import Queue
import Risk
import SystemPackage
import TOMLKit

/// The operator's standing rules and preset answers, from the host
/// settings file (`[[policy.rule]]`, `[answers]`; docs/policy.md) and the
/// rules the host remembered for the operator (``RememberedRules``).
///
/// Parsed strictly, like every host setting: an unknown key, a value of the
/// wrong type, a pattern that is not a hostname, a `max_risk` of `critical`,
/// a reject without an answer — each is an error naming the file, the line
/// and the key. A policy with any error is not used at all: the host
/// processes then decide nothing by rule (every proposal asks) and say so.
public struct HostPolicy: Sendable, Equatable {
    /// The rules in the order they are tried: host.toml's, then the remembered ones.
    public var rules: [PolicyRule] = []
    /// Preset answers by name: the text the agent reads as the notes.
    public var answers: [String: String] = [:]

    public init(rules: [PolicyRule] = [], answers: [String: String] = [:]) {
        self.rules = rules
        self.answers = answers
    }

    /// The answer names, sorted, for pickers and messages.
    public var answerNames: [String] { answers.keys.sorted() }

    /// The text of preset answer `name`, or an error listing the names there are.
    public func answerText(_ name: String) throws(PolicyProblem) -> String {
        if let text = answers[name] { return text }
        let known = answerNames
        throw PolicyProblem(
            "no preset answer \(PolicyProblem.quoted(name)) in [answers]"
                + (known.isEmpty ? " (the settings file defines none)" : "; there are: \(known.joined(separator: ", "))"))
    }

    /// The keys a rule may have.
    static let ruleKeys: [String] = [
        "name", "bottles", "tool", "hosts", "upstreams", "credentials", "methods", "routes", "allow_http", "max_risk",
        "capability", "action", "for", "answer", "approvals",
    ]

    /// Loads the policy of the settings file `path` and of the remembered
    /// rules beside it. A missing settings file is an empty policy.
    public static func load(settings path: FilePath) throws(PolicyProblem) -> HostPolicy {
        var policy = try parse(read(path) ?? "", file: path.lastComponent?.string ?? path.string, remembered: false)
        let remembered = RememberedRules.path(besides: path)
        if let text = try read(remembered) {
            let extra = try parse(text, file: remembered.string, remembered: true)
            for rule in extra.rules {
                if let answer = rule.answer, policy.answers[answer] == nil {
                    throw PolicyProblem(
                        "\(rule.origin): policy.rule \(PolicyProblem.quoted(rule.name)).answer: no preset answer \(PolicyProblem.quoted(answer)) in [answers] of \(path)")
                }
                if let first = policy.rules.first(where: { $0.name == rule.name }) {
                    throw PolicyProblem(
                        "\(rule.origin): the rule name \(PolicyProblem.quoted(rule.name)) is already used at \(first.origin)")
                }
                policy.rules.append(rule)
            }
        }
        return policy
    }

    /// A settings file's text, or `nil` when there is none. Bounded: a
    /// settings file is a few kilobytes, and a 1 GiB one is a mistake.
    static func read(_ path: FilePath) throws(PolicyProblem) -> String? {
        let data: Data?
        do {
            data = try AtomicFile.read(path, limit: 4 << 20)
        } catch {
            throw PolicyProblem("cannot read \(path): \(error)")
        }
        guard let data else { return nil }
        guard let text = String(data: data, encoding: .utf8) else { throw PolicyProblem("\(path) is not UTF-8") }
        return text
    }

    /// Parses the policy tables of a settings file's text; other tables are left to their readers.
    /// - Parameters:
    ///   - file: the name messages use.
    ///   - remembered: the text is the host-written remembered-rules file: rules only.
    public static func parse(_ text: String, file: String, remembered: Bool = false) throws(PolicyProblem) -> HostPolicy {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw PolicyProblem("\(file):\(error.source.begin.line): \(error.description)")
        } catch {
            throw PolicyProblem("\(file): not valid TOML")
        }
        let lines = TOMLLines(text)
        var policy = HostPolicy()
        if let value = root["answers"] {
            if remembered { throw PolicyProblem("\(file): [answers] belongs in the settings file, not here") }
            guard let table = value.table else {
                throw PolicyProblem("\(file):\(lines.line(ofKey: "answers", after: 0)): answers must be a table: [answers]")
            }
            let start = lines.line(ofHeader: "answers", occurrence: 0)
            for key in table.keys.sorted() {
                let at = "\(file):\(lines.line(ofKey: key, after: start)): answers.\(key)"
                guard Decision.isAnswerName(key) else {
                    throw PolicyProblem("\(at): an answer's name is 1 to 64 letters, digits, '-', '_' and '.'")
                }
                guard let text = table[key]?.string else { throw PolicyProblem("\(at) must be a string") }
                guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw PolicyProblem("\(at) is empty; write what the agent should read")
                }
                guard text.utf8.count <= Decision.maximumNotesSize else {
                    throw PolicyProblem("\(at) is \(text.utf8.count) bytes; the limit is \(Decision.maximumNotesSize)")
                }
                policy.answers[key] = text
            }
        }
        guard let value = root["policy"] else { return policy }
        guard let table = value.table else {
            throw PolicyProblem("\(file):\(lines.line(ofKey: "policy", after: 0)): policy must hold rules: [[policy.rule]]")
        }
        for key in table.keys where key != "rule" {
            throw PolicyProblem("\(file): unknown key policy.\(key); rules are written [[policy.rule]]")
        }
        guard let ruleValue = table["rule"] else { return policy }
        guard let array = ruleValue.array else {
            throw PolicyProblem(
                "\(file):\(lines.line(ofHeader: "policy.rule", occurrence: 0)): write each rule as [[policy.rule]] (an array of tables), not [policy.rule]")
        }
        var names: [String: String] = [:]
        for (index, element) in array.enumerated() {
            let header = lines.line(ofHeader: "policy.rule", occurrence: index, array: true)
            guard let ruleTable = element.table else {
                throw PolicyProblem("\(file):\(header): policy.rule[\(index + 1)] must be a table")
            }
            let rule = try parseRule(
                ruleTable, number: index + 1, file: file, header: header, lines: lines, answers: policy.answers,
                remembered: remembered)
            if let first = names[rule.name] {
                throw PolicyProblem(
                    "\(rule.origin): the rule name \(PolicyProblem.quoted(rule.name)) is already used at \(first); names must be unique (decisions say policy:<name>)")
            }
            names[rule.name] = rule.origin
            policy.rules.append(rule)
        }
        return policy
    }

    // MARK: - One rule

    private static func parseRule(
        _ table: TOMLTable, number: Int, file: String, header: Int, lines: TOMLLines, answers: [String: String],
        remembered: Bool
    ) throws(PolicyProblem) -> PolicyRule {
        func at(_ key: String) -> String {
            "\(file):\(lines.line(ofKey: key, after: header)): policy.rule[\(number)].\(key)"
        }
        for key in table.keys where !ruleKeys.contains(key) {
            let hint = ruleKeys.first { $0.lowercased() == key.lowercased() || key.hasPrefix($0) || $0.hasPrefix(key) }
            throw PolicyProblem(
                "\(at(key)): unknown key\(hint.map { " (did you mean \($0)?)" } ?? ""); a rule has \(ruleKeys.joined(separator: ", "))")
        }
        guard let name = table["name"]?.string else {
            throw PolicyProblem("\(file):\(header): policy.rule[\(number)] needs a name = \"...\" (decisions by it say policy:<name>)")
        }
        guard Decision.isAnswerName(name) else {
            throw PolicyProblem("\(at("name")): \(PolicyProblem.quoted(name)) is not 1 to 64 letters, digits, '-', '_' and '.'")
        }
        var rule = PolicyRule(name: name, origin: "\(file):\(header)")

        if let value = table["action"] {
            guard let text = value.string, let action = PolicyRule.Action(rawValue: text) else {
                throw PolicyProblem("\(at("action")) must be \"approve\", \"reject\" or \"ask\"")
            }
            rule.action = action
        }
        if table["bottles"] != nil {
            let globs = try strings(table["bottles"], at("bottles"), singleAllowed: true)
            for glob in globs where !BottleGlob.isValid(glob) {
                throw PolicyProblem(
                    "\(at("bottles")): \(PolicyProblem.quoted(glob)) is not a bottle glob (a slug's letters, digits, '-', '_', '.', with * and ?)")
            }
            rule.bottles = globs
        }
        if table["tool"] != nil {
            var tools = Set<Tool>()
            for text in try strings(table["tool"], at("tool"), singleAllowed: true) {
                guard let tool = Tool(rawValue: text) else {
                    throw PolicyProblem(
                        "\(at("tool")): \(PolicyProblem.quoted(text)) is not a tool; use \(Tool.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tools.insert(tool)
            }
            rule.tools = tools
        }
        if let value = table["max_risk"] {
            guard let text = value.string, let severity = RiskSeverity(rawValue: text) else {
                throw PolicyProblem("\(at("max_risk")) must be \"notice\" or \"warning\"")
            }
            guard severity != .critical else {
                throw PolicyProblem(
                    "\(at("max_risk")): no rule decides a proposal with a critical risk hint; the highest is \"warning\"")
            }
            rule.maxRisk = severity
        }
        if let value = table["capability"] {
            guard let flag = value.bool else { throw PolicyProblem("\(at("capability")) must be true or false") }
            rule.capability = flag
        }
        if table["hosts"] != nil {
            rule.hosts = try patterns(table["hosts"], at("hosts"))
        }
        if table["upstreams"] != nil {
            rule.upstreams = try patterns(table["upstreams"], at("upstreams"))
        }
        if table["credentials"] != nil {
            let names = try strings(table["credentials"], at("credentials"), singleAllowed: false)
            for name in names where name.isEmpty || name.unicodeScalars.contains(where: { Escaped.mustEscape($0) }) {
                throw PolicyProblem("\(at("credentials")): \(PolicyProblem.quoted(name)) is not a credential name")
            }
            rule.credentials = Set(names)
        }
        if table["methods"] != nil {
            var methods = Set<String>()
            for text in try strings(table["methods"], at("methods"), singleAllowed: false) {
                let upper = text.uppercased()
                guard !upper.isEmpty, upper.utf8.allSatisfy({ (0x41...0x5A).contains($0) }) || upper == "*" else {
                    throw PolicyProblem("\(at("methods")): \(PolicyProblem.quoted(text)) is not an HTTP method (GET, POST, …, or *)")
                }
                methods.insert(upper)
            }
            rule.methods = methods
        }
        if table["routes"] != nil {
            var routes: [JSONValue] = []
            for (index, text) in try strings(table["routes"], at("routes"), singleAllowed: false).enumerated() {
                do {
                    let document = try RoutesDocument.parse("{\"routes\": [\n" + text + "\n]}")
                    guard document.routes.count == 1 else { throw PolicyProblem("") }
                    routes.append(document.routes[0])
                } catch {
                    throw PolicyProblem("\(at("routes")): entry \(index + 1) is not one JSON route object")
                }
            }
            rule.routes = routes
        }
        if let value = table["allow_http"] {
            guard let flag = value.bool else { throw PolicyProblem("\(at("allow_http")) must be true or false") }
            rule.allowHTTP = flag
        }
        if let value = table["for"] {
            guard let text = value.string else {
                throw PolicyProblem("\(at("for")) must be a duration in quotes: \"90s\", \"30m\", \"8h\" or \"2d\"")
            }
            do throws(GrantDuration.ParseError) {
                rule.grant = try GrantDuration.parse(text)
            } catch {
                throw PolicyProblem("\(at("for")): \(error)")
            }
        }
        if let value = table["answer"] {
            guard let text = value.string else { throw PolicyProblem("\(at("answer")) must be a preset answer's name") }
            if !remembered, answers[text] == nil {
                let known = answers.keys.sorted()
                throw PolicyProblem(
                    "\(at("answer")): no preset answer \(PolicyProblem.quoted(text)) in [answers]"
                        + (known.isEmpty ? "" : " (there are: \(known.joined(separator: ", ")))"))
            }
            rule.answer = text
        }
        if let value = table["approvals"] {
            guard let count = value.int, (1...PolicyRule.maximumApprovals).contains(count) else {
                throw PolicyProblem(
                    "\(at("approvals")) (rule \(PolicyProblem.quoted(name))) must be a whole number from 1 to "
                        + "\(PolicyRule.maximumApprovals): the distinct operators who must approve a matching proposal "
                        + "through the fleet, not \(value.debugDescription)")
            }
            rule.approvals = count
        }
        try check(rule, at: at, header: "\(file):\(header): policy.rule[\(number)] (\(PolicyProblem.quoted(name)))")
        return rule
    }

    /// What must hold across a rule's keys.
    private static func check(_ rule: PolicyRule, at: (String) -> String, header: String) throws(PolicyProblem) {
        let tools = rule.tools ?? Set(Tool.allCases)
        if rule.hosts != nil, !tools.contains(.pipelockBlock) {
            throw PolicyProblem("\(at("hosts")): hosts are allowlist entries; this rule is not about pipelock-block")
        }
        for key in ["upstreams", "credentials", "methods", "routes"] where !tools.contains(.credProxyBlock) {
            let given =
                switch key {
                case "upstreams": rule.upstreams != nil
                case "credentials": rule.credentials != nil
                case "methods": rule.methods != nil
                default: rule.routes != nil
                }
            if given { throw PolicyProblem("\(at(key)): \(key) are about routes; this rule is not about cred-proxy-block") }
        }
        if rule.allowHTTP {
            guard tools.contains(.credProxyBlock) else {
                throw PolicyProblem("\(at("allow_http")): allow_http is about routes; this rule is not about cred-proxy-block")
            }
            guard rule.upstreams != nil else {
                throw PolicyProblem(
                    "\(at("allow_http")): allow_http = true widens upstreams, and this rule names none (an exact route in routes is taken as written)")
            }
        }
        if rule.capability, !tools.contains(.capabilityBlock) {
            throw PolicyProblem("\(at("capability")): capability = true is about Dockerfiles; this rule is not about capability-block")
        }
        if rule.approvals != nil, rule.action != .ask {
            throw PolicyProblem(
                "\(at("approvals")) (rule \(PolicyProblem.quoted(rule.name))): approvals = N is for an ask rule (a human "
                    + "decides, N of them through the fleet); this rule's action is \(rule.action.rawValue): drop approvals, "
                    + "or make it action = \"ask\"")
        }
        switch rule.action {
        case .approve:
            guard rule.namesChanges || rule.capability else {
                throw PolicyProblem(
                    "\(header): an approve rule must name what it approves: hosts, upstreams or routes (or capability = true for a Dockerfile)")
            }
            if rule.grant != nil, rule.capability {
                throw PolicyProblem(
                    "\(at("for")): a Dockerfile approval cannot be time-boxed (undoing it is a rebuild); drop for, or capability = true")
            }
        case .reject:
            guard rule.answer != nil else {
                throw PolicyProblem("\(header): a reject rule needs answer = \"<name>\" from [answers]: the agent must be told why")
            }
            if rule.grant != nil { throw PolicyProblem("\(at("for")): only an approve rule has a duration") }
        case .ask:
            if rule.grant != nil { throw PolicyProblem("\(at("for")): only an approve rule has a duration") }
            if rule.answer != nil { throw PolicyProblem("\(at("answer")): an ask rule answers nothing; drop answer") }
        }
    }

    // MARK: - Values

    private static func strings(_ value: (any TOMLValueConvertible)?, _ at: String, singleAllowed: Bool) throws(PolicyProblem)
        -> [String]
    {
        guard let value else { return [] }
        if singleAllowed, let text = value.string { return [text] }
        guard let array = value.array else {
            throw PolicyProblem("\(at) must be \(singleAllowed ? "a string or " : "")an array of strings, as in [\"a\", \"b\"]")
        }
        var texts: [String] = []
        for element in array {
            guard let text = element.string else { throw PolicyProblem("\(at) must hold strings only") }
            texts.append(text)
        }
        guard !texts.isEmpty else { throw PolicyProblem("\(at) is empty; leave the key out, or name at least one") }
        return texts
    }

    private static func patterns(_ value: (any TOMLValueConvertible)?, _ at: String) throws(PolicyProblem) -> [HostPattern] {
        var patterns: [HostPattern] = []
        for text in try strings(value, at, singleAllowed: false) {
            do throws(PolicyProblem) {
                patterns.append(try HostPattern(text))
            } catch {
                throw PolicyProblem("\(at): \(error.message)")
            }
        }
        return patterns
    }
}

/// Where keys and table headers are in a TOML text, for messages: TOMLKit
/// reports positions of syntax errors only, and an operator fixing a rule
/// needs its line.
struct TOMLLines {
    private let lines: [Substring]

    init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// The 1-based line of the `occurrence`-th (0-based) `[name]` or `[[name]]` header; 0 when not found.
    func line(ofHeader name: String, occurrence: Int, array: Bool = false) -> Int {
        var seen = 0
        for (index, line) in lines.enumerated() {
            let compact = line.filter { $0 != " " && $0 != "\t" }
            let matches =
                array
                ? compact.hasPrefix("[[\(name)]]")
                : compact.hasPrefix("[\(name)]") || compact.hasPrefix("[[\(name)]]")
            if matches {
                if seen == occurrence { return index + 1 }
                seen += 1
            }
        }
        return 0
    }

    /// The 1-based line of `key = …` at or after line `start` (1-based), before the next header; `start` when not found.
    func line(ofKey key: String, after start: Int) -> Int {
        var index = max(0, start)
        while index < lines.count {
            let trimmed = lines[index].drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("[") { break }
            for spelled in [key, "\"\(key)\""] where trimmed.hasPrefix(spelled) {
                let rest = trimmed.dropFirst(spelled.count).drop { $0 == " " || $0 == "\t" }
                if rest.hasPrefix("=") { return index + 1 }
            }
            index += 1
        }
        return start
    }
}
