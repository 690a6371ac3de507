import Queue

/// What a time-boxed grant holds: the change its approval made, not the file.
///
/// For an allowlist, the hosts it added; for routes, the routes it added and
/// the routes it changed (the route before and after). When the grant ends,
/// exactly these are taken back out of whatever the file is by then
/// (``GrantRevert``), so the rest of the file — lines added later, by hand
/// or by other approvals — stays as it is. A removal is never held: taking
/// something away narrows access, and stays.
public struct GrantHoldings: Codable, Sendable, Equatable {
    /// Hosts the grant added to the allowlist, as normalized names (lower case).
    public var hosts: [String]
    /// Routes the grant added, each as compact JSON text.
    public var routesAdded: [String]
    /// Routes the grant changed: the route before and the route it put in its place.
    public var routesChanged: [RouteChange]

    /// One route changed by a grant.
    public struct RouteChange: Codable, Sendable, Equatable, Hashable {
        /// The route as it was, compact JSON text.
        public var before: String
        /// The route the grant put in its place, compact JSON text.
        public var after: String

        /// A change from `before` to `after`.
        public init(before: String, after: String) {
            self.before = before
            self.after = after
        }
    }

    /// Holdings of the given lines.
    public init(hosts: [String] = [], routesAdded: [String] = [], routesChanged: [RouteChange] = []) {
        self.hosts = hosts
        self.routesAdded = routesAdded
        self.routesChanged = routesChanged
    }

    /// Whether the grant holds nothing (all of it became permanent, or its change added nothing).
    public var isEmpty: Bool { hosts.isEmpty && routesAdded.isEmpty && routesChanged.isEmpty }

    /// Every route text this grant put into the file (added, or changed to).
    public var routesPut: Set<String> { Set(routesAdded).union(routesChanged.map(\.after)) }

    /// Every route this grant put into the file, as JSON values: what the
    /// file is matched against. JSON equality, never the text: a route whose
    /// keys were reordered since is the same route to cred-proxy, so it must
    /// be the same route to the grant's end (else a reorder outlives it).
    public var routeValuesPut: Set<JSONValue> { Set(routesPut.compactMap(GrantRevert.route(_:))) }

    /// One line per held item, for `grants` and the consoles.
    public var summary: [String] {
        hosts.map { "host \($0)" } + routesAdded.map { "route \($0)" }
            + routesChanged.map { "route \($0.before) → \($0.after)" }
    }

    /// The union of several grants' holdings (what the other live grants hold).
    public static func union(_ all: [GrantHoldings]) -> GrantHoldings {
        var hosts: [String] = [], added: [String] = [], changed: [RouteChange] = []
        var seenHosts = Set<String>(), seenAdded = Set<String>(), seenChanged = Set<RouteChange>()
        for holdings in all {
            for host in holdings.hosts where seenHosts.insert(host).inserted { hosts.append(host) }
            for route in holdings.routesAdded where seenAdded.insert(route).inserted { added.append(route) }
            for change in holdings.routesChanged where seenChanged.insert(change).inserted { changed.append(change) }
        }
        return GrantHoldings(hosts: hosts, routesAdded: added, routesChanged: changed)
    }

    // MARK: - The change an approval makes

    /// What approving `approved` over `base` adds or changes in `file`.
    /// - Parameters:
    ///   - base: the file the proposal was made against (`nil`: none).
    ///   - approved: the file approved.
    public static func change(of file: ConfigFile, from base: String?, to approved: String) -> GrantHoldings {
        switch file {
        case .allowlist:
            let before = Set(GrantRevert.hosts(in: base ?? ""))
            var seen = Set<String>()
            let added = GrantRevert.hosts(in: approved).filter { !before.contains($0) && seen.insert($0).inserted }
            return GrantHoldings(hosts: added)
        case .routes:
            let before = GrantRevert.routes(in: base ?? "") ?? []
            let after = GrantRevert.routes(in: approved) ?? []
            var removed = before.filter { !after.contains($0) }
            var added: [String] = [], changed: [RouteChange] = []
            for route in after where !before.contains(route) {
                if let key = GrantRevert.routeKey(route),
                    let index = removed.firstIndex(where: { GrantRevert.routeKey($0) == key })
                {
                    changed.append(RouteChange(before: removed[index].description, after: route.description))
                    removed.remove(at: index)
                } else {
                    added.append(route.description)
                }
            }
            return GrantHoldings(routesAdded: added, routesChanged: changed)
        case .dockerfile:
            return GrantHoldings()
        }
    }

    /// These holdings less what was already in `before` (the file just
    /// before the apply) — unless another live grant holds it: a line that
    /// was there for good is not the grant's to take away, but a line only
    /// another grant holds is held by both (the later end removes it).
    public func restricted(to file: ConfigFile, before: String?, heldByOthers others: GrantHoldings) -> GrantHoldings {
        switch file {
        case .allowlist:
            let present = Set(GrantRevert.hosts(in: before ?? ""))
            let shared = Set(others.hosts)
            return GrantHoldings(hosts: hosts.filter { !present.contains($0) || shared.contains($0) })
        case .routes:
            let present = Set(GrantRevert.routes(in: before ?? "") ?? [])
            let shared = others.routeValuesPut
            func held(_ text: String) -> Bool {
                guard let route = GrantRevert.route(text) else { return true }
                return !present.contains(route) || shared.contains(route)
            }
            return GrantHoldings(
                routesAdded: routesAdded.filter(held), routesChanged: routesChanged.filter { held($0.after) })
        case .dockerfile:
            return GrantHoldings()
        }
    }

    /// These holdings less everything in `claimed`: what a permanent approval
    /// asked for is no longer the grant's to take away.
    public func releasing(_ claimed: GrantHoldings) -> GrantHoldings {
        let hosts = Set(claimed.hosts)
        let routes = claimed.routeValuesPut
        func claimedToo(_ text: String) -> Bool { GrantRevert.route(text).map(routes.contains) ?? false }
        return GrantHoldings(
            hosts: self.hosts.filter { !hosts.contains($0) },
            routesAdded: routesAdded.filter { !claimedToo($0) },
            routesChanged: routesChanged.filter { !claimedToo($0.after) })
    }

    /// These holdings once `ended`, a grant of the same file, has ended:
    /// a route this grant changed from one `ended` put in now counts as
    /// changed from what was there before `ended` (or, when `ended` added
    /// it, as added by this grant). Without the chain, this grant's end
    /// would put back the earlier grant's route — access that then never ends.
    public func chained(after ended: GrantHoldings) -> GrantHoldings {
        var earlier: [JSONValue: String] = [:]
        for change in ended.routesChanged {
            if let after = GrantRevert.route(change.after), earlier[after] == nil { earlier[after] = change.before }
        }
        let addedByEnded = Set(ended.routesAdded.compactMap(GrantRevert.route(_:)))
        var added = routesAdded, changed: [RouteChange] = []
        for change in routesChanged {
            guard let before = GrantRevert.route(change.before) else {
                changed.append(change)
                continue
            }
            if let original = earlier[before] {
                changed.append(RouteChange(before: original, after: change.after))
            } else if addedByEnded.contains(before) {
                added.append(change.after)
            } else {
                changed.append(change)
            }
        }
        return GrantHoldings(hosts: hosts, routesAdded: added, routesChanged: changed)
    }

    enum CodingKeys: String, CodingKey {
        case hosts
        case routesAdded = "routes_added"
        case routesChanged = "routes_changed"
    }
}
