/// A cred-proxy `routes.json` that passed validation: a JSON object with a
/// `routes` array of objects, no duplicate keys, no two identical routes.
///
/// Public so the console can say which routes a proposal adds, removes or
/// changes by comparing ``routes`` of the current and the proposed file.
/// Route fields are not checked: cred-proxy's route schema is its own, and
/// inventing required fields here would refuse files cred-proxy accepts.
public struct RoutesDocument: Sendable, Equatable {
    /// The whole document (the top-level object, all its members).
    public let root: JSONValue
    /// The elements of the `routes` array, in file order, each an object.
    public let routes: [JSONValue]
    /// The 1-based line each route starts on, parallel to ``routes``.
    public let routeLines: [Int]

    /// Parses and checks `content` as a routes file.
    /// - Throws: every problem found (up to the limit), positioned, with the
    ///   tool set to ``Tool/credProxyBlock``.
    public static func parse(_ content: String) throws(ValidationError) -> RoutesDocument {
        var problems = ProblemList()
        let node = StrictJSONParser.parse(content, problems: &problems)
        guard let node else {
            try problems.throwAll(for: .credProxyBlock)
        }
        let column = { (position: JSONPosition) in position.column(in: content) }
        guard case .object(let members) = node.value else {
            problems.add(
                "the top level must be a JSON object with a \"routes\" array, e.g. {\"routes\": []}; found \(node.value.kindName)",
                line: node.position.line, column: column(node.position))
            try problems.throwAll(for: .credProxyBlock)
        }
        guard let index = members.firstIndex(where: { $0.key.utf8.elementsEqual("routes".utf8) })
        else {
            problems.add(
                "the top-level object has no \"routes\" key; add \"routes\": [ ... ] holding the routes",
                line: node.position.line, column: column(node.position))
            try problems.throwAll(for: .credProxyBlock)
        }
        let routesNode = node.children[index]
        guard case .array(let routes) = routesNode.value else {
            problems.add(
                "\"routes\" must be an array of route objects; found \(routesNode.value.kindName)",
                line: routesNode.position.line, column: column(routesNode.position))
            try problems.throwAll(for: .credProxyBlock)
        }
        var firstIndex: [JSONValue: Int] = [:]
        for (i, route) in routesNode.children.enumerated() {
            guard case .object = route.value else {
                problems.add(
                    "routes[\(i)] must be an object; found \(route.value.kindName)",
                    line: route.position.line, column: column(route.position))
                continue
            }
            if let first = firstIndex[route.value] {
                problems.add(
                    "routes[\(i)] is identical to routes[\(first)] (line \(routesNode.children[first].position.line)); remove one of them",
                    line: route.position.line, column: column(route.position))
            } else {
                firstIndex[route.value] = i
            }
        }
        try problems.throwIfAny(for: .credProxyBlock)
        return RoutesDocument(
            root: node.value, routes: routes, routeLines: routesNode.children.map(\.position.line))
    }
}
