import FileAccess
import Foundation
import Queue
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// What `show` displayed, remembered for the decision that follows: the
/// SHA-256 of the proposal file as shown, in `<queue root>/.reviewed/<id>`.
///
/// `show ID` then `approve ID` are two processes, and between them a
/// compromised sidecar can rename a different file (even another tool's)
/// over the proposal. With this record, a decision without
/// `--expect-sha256` is still bound to what the operator last saw: a file
/// that no longer hashes the same exits 5. The record lives in the queue
/// root, which only the host can write (the sidecar sees its own bottle's
/// directory), under a name no slug can take, so the queue ignores it.
struct ReviewRecord {
    let queueRoot: FilePath

    private var directory: FilePath { queueRoot.appending(".reviewed") }

    private func path(_ id: ProposalID) -> FilePath { directory.appending(id.rawValue) }

    /// Remembers that `digest` of proposal `id` was shown.
    func remember(_ id: ProposalID, digest: String) {
        do {
            try AtomicFile.makeDirectory(directory, mode: 0o700)
            try AtomicFile.write(Data((digest + "\n").utf8), to: path(id), mode: 0o600)
        } catch {
            FileHandle.standardError.write(
                Data("bottle-supervise show: could not remember what was shown (\(error)); use --expect-sha256\n".utf8))
        }
    }

    /// The digest `show` last displayed for `id`, if it displayed one.
    func shown(_ id: ProposalID) -> String? {
        guard let data = try? AtomicFile.read(path(id), limit: 128) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return SHA256Hex.isWellFormed(text) ? text : nil
    }

    /// Forgets `id` once it is decided.
    func forget(_ id: ProposalID) {
        unlink(path(id).string)
    }
}
