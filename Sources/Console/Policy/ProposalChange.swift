import Queue

/// What a proposal changes in the bottle's file, in the terms a standing
/// rule is written in: allowlist hosts added and removed; routes added and
/// removed (a route whose credential, path or methods changed is both:
/// the old one removed, the new one added); Dockerfile instructions added,
/// and any removed or changed.
///
/// Computed from the validated proposed file and the bottle's current file,
/// never from anything the sidecar says. Both files must parse; a current
/// file that does not is an ``unjudgeable(_:)`` change (a human looks).
public enum ProposalChange: Sendable, Equatable {
    /// The allowlist's hosts, in ASCII lower case (a wildcard keeps `*.`).
    case allowlist(added: [String], removed: [String])
    /// The routes added and removed, as JSON values; `otherMembers` when a
    /// top-level member besides `routes` changed.
    case routes(added: [JSONValue], removed: [JSONValue], otherMembers: Bool)
    /// The Dockerfile's instructions added; `removed` describes each current
    /// instruction the proposal drops or changes, a changed parser directive,
    /// and each added instruction that changes what the kept ones mean
    /// (``ProposalChange/alteration(_:keptAfter:)``).
    case dockerfile(added: [DockerfileInstruction], removed: [String])
    /// A change no rule can judge, and why.
    case unjudgeable(String)

    /// The change from `current` (`nil`: no file) to `proposed` through `tool`.
    public static func of(tool: Tool, proposed: String, current: String?) -> ProposalChange {
        switch tool {
        case .pipelockBlock:
            guard let new = try? AllowlistDocument.parse(proposed) else {
                return .unjudgeable("the proposed allowlist does not validate")
            }
            let old: AllowlistDocument
            do { old = try AllowlistDocument.parse(current ?? "") } catch {
                return .unjudgeable("the bottle's current allowlist does not validate")
            }
            let before = Set(old.hosts.map(\.normalizedName))
            let after = Set(new.hosts.map(\.normalizedName))
            return .allowlist(
                added: new.hosts.map(\.normalizedName).filter { !before.contains($0) },
                removed: old.hosts.map(\.normalizedName).filter { !after.contains($0) })
        case .credProxyBlock:
            guard let new = try? RoutesDocument.parse(proposed) else {
                return .unjudgeable("the proposed routes.json does not validate")
            }
            guard let current else {
                return .routes(added: new.routes, removed: [], otherMembers: otherMembers(of: new.root) != .object([]))
            }
            guard let old = try? RoutesDocument.parse(current) else {
                return .unjudgeable("the bottle's current routes.json does not validate")
            }
            // Counted, not set-compared: the validator refuses identical routes, but
            // a count keeps "one of two equal routes removed" a removal all the same.
            var remaining: [JSONValue: Int] = [:]
            for route in old.routes { remaining[route, default: 0] += 1 }
            var added: [JSONValue] = []
            for route in new.routes {
                if let count = remaining[route], count > 0 {
                    remaining[route] = count - 1
                } else {
                    added.append(route)
                }
            }
            let removed = old.routes.filter { route in
                guard let count = remaining[route], count > 0 else { return false }
                remaining[route] = count - 1
                return true
            }
            return .routes(
                added: added, removed: removed, otherMembers: otherMembers(of: new.root) != otherMembers(of: old.root))
        case .capabilityBlock:
            guard let new = try? DockerfileDocument.parse(proposed) else {
                return .unjudgeable("the proposed Dockerfile does not validate")
            }
            guard let current else {
                // No file yet: every instruction is new, and its FROM is an image nobody chose.
                let altered = new.instructions.compactMap { alteration($0, keptAfter: false) }
                return .dockerfile(added: new.instructions, removed: altered)
            }
            guard let old = try? DockerfileDocument.parse(current) else {
                return .unjudgeable("the bottle's current Dockerfile does not validate")
            }
            var removed: [String] = []
            if new.directives != old.directives || new.escapeCharacter != old.escapeCharacter {
                removed.append("a parser directive (# syntax=, # escape=) changed")
            }
            // Additions only: every current instruction is still there, in the same
            // order, unchanged; whatever sits between them is what the proposal adds.
            var added: [DockerfileInstruction] = []
            var next = 0
            for instruction in new.instructions {
                if next < old.instructions.count, same(instruction, old.instructions[next]) {
                    next += 1
                } else if let why = alteration(instruction, keptAfter: next < old.instructions.count) {
                    removed.append(why)
                } else {
                    added.append(instruction)
                }
            }
            for missing in old.instructions[next...] {
                removed.append("\(missing.keyword) on line \(missing.line) of the current file is removed or changed")
            }
            return .dockerfile(added: added, removed: removed)
        }
    }

    /// Instructions that, added anywhere, change what the file's other
    /// instructions mean rather than adding to them:
    /// - `FROM` starts a stage: appended, it is a new final image that drops
    ///   every kept instruction's work; in the middle, it moves the kept
    ///   instructions after it onto another image; before the first, a stage
    ///   named like an image a kept `FROM` uses replaces that image;
    /// - `USER` (who every later instruction and the bottle's process run as),
    ///   `SHELL` (what runs every later `RUN`), `ONBUILD` (instructions run in
    ///   another build), `ENTRYPOINT`, `CMD`, `HEALTHCHECK` and `STOPSIGNAL`
    ///   (the last one wins: an added one replaces a kept one, or the base
    ///   image's).
    static let alwaysAlters: Set<String> = [
        "FROM", "USER", "SHELL", "ONBUILD", "ENTRYPOINT", "CMD", "HEALTHCHECK", "STOPSIGNAL",
    ]

    /// Instructions that set what later instructions read — a variable
    /// (`ARG`: before the first `FROM`, what a kept `FROM ${IMAGE}` pulls;
    /// `ENV PATH=…`: which binary a kept `RUN` runs), the directory relative
    /// paths resolve in (`WORKDIR`), a path whose later changes are discarded
    /// (`VOLUME`): a change when a kept instruction follows, an addition at
    /// the end of the file.
    static let altersWhatFollows: Set<String> = ["ARG", "ENV", "WORKDIR", "VOLUME"]

    /// Why the added `instruction` changes the meaning of the file's kept
    /// instructions (`keptAfter`: a kept one follows it); `nil` when it only adds.
    static func alteration(_ instruction: DockerfileInstruction, keptAfter: Bool) -> String? {
        let keyword = instruction.keyword
        if alwaysAlters.contains(keyword) || (keptAfter && altersWhatFollows.contains(keyword)) {
            let reach = alwaysAlters.contains(keyword) ? "" : " before kept instructions"
            return "the added \(keyword) on line \(instruction.line)\(reach) changes what the kept instructions mean, not only adds"
        }
        return nil
    }

    private static func same(_ a: DockerfileInstruction, _ b: DockerfileInstruction) -> Bool {
        a.keyword == b.keyword && a.arguments.utf8.elementsEqual(b.arguments.utf8) && a.heredocs == b.heredocs
    }

    /// The top-level members other than `routes`.
    private static func otherMembers(of root: JSONValue) -> JSONValue {
        guard case .object(let members) = root else { return root }
        return .object(members.filter { !$0.key.unicodeScalars.elementsEqual("routes".unicodeScalars) })
    }
}
