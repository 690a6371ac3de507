import Apply
import Foundation
import Queue

/// What the host does when it finds a decision file it did not make
/// (docs/security.md, "Only the host decides"): the file is already set
/// aside by the queue (``DecisionSeal``); here it is recorded once in the
/// audit log as a `forged-decision` event (at most
/// ``DecisionSeal/setAsideLimit`` per proposal), and a command that writes to a
/// terminal line by line says so on standard error.
enum ForgedDecisionAudit {
    /// Installs the recorder for this process. - Parameter tellOperator:
    /// also write a line to standard error (not in the full-screen console).
    static func install(tellOperator: Bool) {
        DecisionSeal.onForgedDecision { found in
            let where_ = found.wasArchived ? "archived" : "live"
            var message =
                "bottle-supervise: a \(where_) decision file on \(found.id) in bottle \(found.bottle) was not made by this host "
                + (found.claimed.map { "(it claims \(Escaped($0.status.rawValue)) by \(Escaped($0.decidedBy))); " }
                    ?? "(it does not read as a decision: \(Escaped(found.unreadable ?? "malformed"))); ")
                + "set aside to \(Escaped(found.movedTo.string)) and never applied"
            // Recorded even when its proposal could not be read (archived, removed): tool and file then stay empty.
            do {
                try AuditLog(queueRoot: found.queueRoot).append(
                    AuditRecord(
                        event: .forgedDecision, by: OperatorName.current, bottle: found.bottle,
                        file: found.tool?.configFile, tool: found.tool, id: found.id,
                        status: found.claimed?.status.rawValue ?? "malformed", oldSHA256: nil, newSHA256: found.sha256))
                message += "; recorded in the audit log"
            } catch {
                message += "; could not record it in the audit log: \(error)"
            }
            if tellOperator { FileHandle.standardError.write(Data((message + "\n").utf8)) }
        }
    }
}
