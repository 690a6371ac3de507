import Queue

/// The part of a container's `inspect` a replacement watches: its name and
/// whether it runs, keeps running, or has exited and how.
struct ContainerState: Sendable, Equatable {
    var id: String
    /// The name, without Docker's leading `/`.
    var name: String
    var running: Bool
    /// The engine is restarting it after an exit (restart policy): not up.
    var restarting: Bool
    /// How often the engine restarted it; a change while we watch means it crashed.
    var restartCount: Int64
    /// `created`, `running`, `exited`…
    var status: String
    var exitCode: Int64?
    /// The engine's own error for a start that failed (`exec: … not found`).
    var error: String?

    init(_ value: JSONValue) throws(EngineFieldError) {
        let container = InspectedObject(value, path: "")
        id = try container.string("Id") ?? ""
        var name = try container.string("Name") ?? ""
        if name.hasPrefix("/") { name.removeFirst() }
        self.name = name
        let state = try container.object("State") ?? InspectedObject(.object([]), path: "State")
        running = try state.bool("Running") ?? false
        restarting = try state.bool("Restarting") ?? false
        restartCount = try container.integer("RestartCount") ?? 0
        status = try state.string("Status") ?? ""
        exitCode = try state.integer("ExitCode")
        error = try state.string("Error").flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Parses `inspect`'s output for one container: a JSON array of one object.
    static func single(from output: String) throws -> JSONValue {
        let document = try EngineJSON.parse(output)
        guard case .array(let elements) = document, elements.count == 1, case .object = elements[0] else {
            throw EngineFieldError(field: "the document", expected: "an array of one container")
        }
        return elements[0]
    }
}
