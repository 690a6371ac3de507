/// Waits until `condition` holds, checking every few milliseconds, and
/// throws if it still does not after `timeout`: a test waits on the state it
/// needs (a request sent, a change announced, a call held), never on a fixed
/// sleep. The deadline is generous on purpose: the unit tests run side by
/// side on a loaded 2-core machine, and only a test that is broken reaches it.
/// One copy for every unit test target (`Package.swift`: `Eventually`).
public func eventually(
    _ what: String = "the condition", timeout: Duration = .seconds(60), _ condition: () throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw NotWithinDeadline(what: what, timeout: timeout) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// What ``eventually(_:timeout:_:)`` throws when the state never came.
public struct NotWithinDeadline: Error, CustomStringConvertible {
    public var what: String
    public var timeout: Duration
    public var description: String { "not within \(timeout): \(what)" }
}
