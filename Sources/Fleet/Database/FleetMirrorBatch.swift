import Foundation
import PostgresNIO

/// Proposal rows as column arrays, so a mirror writes many rows in one
/// statement (`INSERT … SELECT … FROM unnest(…)`) instead of a round trip per
/// row. A nullable column travels as a value array and a `has_…` flag array
/// (postgres-nio's arrays hold no NULL). A batch holds at most
/// ``maximumRows`` rows and about ``maximumBytes`` of files, so one
/// statement stays a bounded message.
struct FleetMirrorBatch {
    static let maximumRows = 500
    static let maximumBytes = 8 << 20

    var bottles: [String] = []
    var ids: [String] = []
    var tools: [String] = []
    var proposals: [ByteBuffer] = []
    var digests: [String] = []
    var proposedFiles: [String] = []
    var justifications: [String] = []
    var createdAt: [Date] = []
    var hasExpiry: [Bool] = []
    var expiresAt: [Date] = []
    var hasFirstSeen: [Bool] = []
    var firstSeen: [Date] = []
    var riskHints: [String] = []
    var hasCurrentFile: [Bool] = []
    var currentFiles: [String] = []
    var hasCurrentDigest: [Bool] = []
    var currentDigests: [String] = []
    var hasProblem: [Bool] = []
    var problems: [String] = []
    var waiting: [Bool] = []
    var archived: [Bool] = []
    var requiredApprovals: [Int32] = []
    var hasApprovalsRule: [Bool] = []
    var approvalsRules: [String] = []
    var criticalApprovals: [Int32] = []
    private(set) var bytes = 0

    var count: Int { ids.count }

    /// Adds `row` (its risk hints already as JSON); text columns made storable (``Swift/String/postgresText``).
    mutating func append(_ row: FleetProposalRow, hints: String) {
        let placeholder = Date(timeIntervalSince1970: 0)
        bottles.append(row.bottle.rawValue)
        ids.append(row.id.rawValue)
        tools.append(row.tool.rawValue)
        proposals.append(ByteBuffer(bytes: row.proposal))
        digests.append(row.proposalSHA256)
        proposedFiles.append(row.proposedFile.postgresText)
        justifications.append(row.justification.postgresText)
        createdAt.append(row.createdAt)
        hasExpiry.append(row.expiresAt != nil)
        expiresAt.append(row.expiresAt ?? placeholder)
        hasFirstSeen.append(row.hostFirstSeen != nil)
        firstSeen.append(row.hostFirstSeen ?? placeholder)
        riskHints.append(hints)
        hasCurrentFile.append(row.currentFile != nil)
        currentFiles.append(row.currentFile.postgresText ?? "")
        hasCurrentDigest.append(row.currentSHA256 != nil)
        currentDigests.append(row.currentSHA256 ?? "")
        hasProblem.append(row.problem != nil)
        problems.append(row.problem.postgresText ?? "")
        waiting.append(row.waiting)
        archived.append(row.archived)
        requiredApprovals.append(Int32(clamping: row.hostApprovals.required))
        hasApprovalsRule.append(row.hostApprovals.rule != nil)
        approvalsRules.append(row.hostApprovals.rule ?? "")
        criticalApprovals.append(Int32(clamping: row.hostApprovals.critical))
        bytes += row.proposal.count + row.proposedFile.utf8.count + (row.currentFile?.utf8.count ?? 0)
            + row.justification.utf8.count
    }

    /// The rows cut into batches.
    static func chunks(of rows: [(FleetProposalRow, String)]) -> [FleetMirrorBatch] {
        var batches: [FleetMirrorBatch] = []
        var current = FleetMirrorBatch()
        for (row, hints) in rows {
            if current.count >= maximumRows || (current.count > 0 && current.bytes >= maximumBytes) {
                batches.append(current)
                current = FleetMirrorBatch()
            }
            current.append(row, hints: hints)
        }
        if current.count > 0 { batches.append(current) }
        return batches
    }
}
