import FileAccess
import Foundation
import Queue
import SystemPackage

/// The operator's own environment entries and labels, as the last
/// replacement carried them: `<config-root>/<slug>/.replacement-baseline.json`.
///
/// The replacement drops a container's value that equals the old image's
/// (so the new image's `ENV`/`LABEL` apply). Without a memory of which
/// values were the operator's, an agent could remove one in two approvals:
/// first add the same value as an `ENV` line (the container's value now
/// equals the image's), then delete the line (the value is dropped as "the
/// old image's"). An entry in the baseline is carried whatever the old image
/// says, for as long as the container still has it exactly (an operator who
/// recreates the bottle with another value replaces it). Host-written, in the
/// config directory the sidecar and the bottle see read-only at most.
enum ReplacementBaseline {
    static func path(in directory: FilePath) -> FilePath { directory.appending(".replacement-baseline.json") }

    /// The recorded entries; empty when there is no file yet.
    /// - Throws: when the file exists but is not what this program writes (a link, too large, not JSON).
    static func read(_ path: FilePath) throws -> Set<String> {
        guard let data = try AtomicFile.read(path, limit: 4 << 20, regularOnly: true) else { return [] }
        return Set(try JSONDecoder().decode([String].self, from: data))
    }

    /// Records `entries` (sorted, so the file changes only when they do).
    static func write(_ entries: [String], to path: FilePath) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try encoder.encode(entries.sorted()), to: path, mode: 0o600)
    }
}
