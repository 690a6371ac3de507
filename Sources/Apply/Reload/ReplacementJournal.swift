import FileAccess
import Foundation
import Queue
import SystemPackage

/// What a container replacement in progress has done so far, written to
/// `<config-root>/<slug>/.replacement.json` before each step that changes
/// the bottle's containers, and removed when the bottle is back to one
/// running container.
///
/// If the host process dies between "stop the old container" and "the new
/// one runs", the journal is how the next host command (the recovery that
/// finishes interrupted applies) knows which container to bring back. It
/// names containers by id, so a container renamed meanwhile is still found.
/// Host-written, in the bottle's config directory that the bottle sees
/// read-only; nothing in it comes from the agent.
struct ReplacementJournal: Codable, Sendable, Equatable {
    /// Where the replacement stands.
    enum Phase: String, Codable, Sendable {
        /// The new container is being created under ``nextName``; the old one is untouched.
        case creating
        /// The old container is being stopped and parked, the new one renamed and started.
        case swapping
        /// The new container runs under ``name``; only removing the old one is left.
        case removingOld
    }

    /// The engine program the replacement called, so recovery calls the same one.
    var engine: String
    /// The bottle's container name, which the running container must hold at the end.
    var name: String
    /// The old container's id.
    var oldID: String
    /// Whether the old container was running (recovery restarts it only then).
    var oldWasRunning: Bool
    /// The name the old container is parked under while the new one takes over.
    var parkedName: String
    /// The name the new container is created under.
    var nextName: String
    /// The new container's id, once created.
    var newID: String?
    var phase: Phase

    /// The journal's file in a bottle's config directory.
    static func path(in directory: FilePath) -> FilePath { directory.appending(".replacement.json") }

    /// The journal at `path`, or `nil` when no replacement is in progress.
    static func read(_ path: FilePath) throws -> ReplacementJournal? {
        guard let data = try AtomicFile.read(path, limit: 64 << 10, regularOnly: true) else { return nil }
        return try JSONDecoder().decode(ReplacementJournal.self, from: data)
    }

    /// Writes the journal whole (temp file, fsync, rename).
    func write(to path: FilePath) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: path, mode: 0o600)
    }

    /// Removes the journal: the bottle has one container again.
    static func remove(_ path: FilePath) {
        unlink(path.string)
    }
}
