import Apply
import Foundation
import Queue

/// A live grant as the grants page shows it; every value HTML-escaped by the template.
enum GrantViews {
    static func row(_ grant: Grant, now: Date) -> [String: Any] {
        var values: [String: Any] = [
            "id": grant.id.rawValue, "bottle": grant.bottle.rawValue, "file": grant.file.fileName,
            "ends": Timestamp.format(grant.expiresAt), "left": GrantDuration.left(until: grant.expiresAt, now: now),
            "grantedBy": Escaped(grant.grantedBy).description,
            "holds": grant.holdings.summary.map { Escaped($0).description },
        ]
        if let error = grant.endError { values["endError"] = Escaped(error).description }
        return values
    }
}
