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
    /// - Parameter plainKeys: refuse member names that are not plain ASCII
    ///   (the validator's reading). The risk hints read such a file anyway
    ///   (`false`), so a folded `"ｕｐｓｔｒｅａｍ"` is still judged.
    /// - Throws: every problem found (up to the limit), positioned, with the
    ///   tool set to ``Tool/credProxyBlock``.
    public static func parse(_ content: String, plainKeys: Bool = true) throws(ValidationError) -> RoutesDocument {
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
        // (After the parser's own problems only: a duplicate `"é"` is named once, as a duplicate.)
        if plainKeys, problems.isEmpty { checkKeys(node, path: "", problems: &problems, column: column) }
        try problems.throwIfAny(for: .credProxyBlock)
        return RoutesDocument(
            root: node.value, routes: routes, routeLines: routesNode.children.map(\.position.line))
    }

    /// Refuses member names with a control character, a blank or a non-ASCII
    /// character (`"upstream\u0000"`, `"upstream "`, `"up\u0131stream"`):
    /// cred-proxy's names are plain ASCII words, and such a near-spelling sits
    /// silently beside the real one, read by one JSON reader and not another.
    private static func checkKeys(
        _ node: JSONNode, path: String, problems: inout ProblemList, column: (JSONPosition) -> Int
    ) {
        switch node.value {
        case .object(let members):
            for (member, child) in zip(members, node.children) {
                let odd = member.key.unicodeScalars.first { $0.value < 0x21 || $0.value > 0x7E }
                if let odd {
                    let what = odd.value > 0x7F ? "a non-ASCII character" : odd.value == 0x20 ? "a blank" : "a control character"
                    problems.add(
                        "\(path.isEmpty ? "the top-level object" : path) has the key \(QuotedText(member.key)) with \(what) "
                            + "(\(CharacterName(scalar: odd))); keys are plain ASCII names such as \"upstream\": write it without that character",
                        line: child.position.line, column: column(child.position))
                }
                let name = odd == nil ? String(member.key.prefix(QuotedText.limit)) : "\(QuotedText(member.key))"
                checkKeys(child, path: path + (path.isEmpty ? "" : ".") + name, problems: &problems, column: column)
            }
        case .array:
            for (index, child) in node.children.enumerated() {
                checkKeys(child, path: "\(path)[\(index)]", problems: &problems, column: column)
            }
        default:
            break
        }
    }
}
