import Foundation
import PostgresNIO
import Queue

/// Turns what postgres-nio throws into a ``FleetStoreError`` an operator can read.
///
/// postgres-nio describes its errors generically on purpose (a query's
/// values must not end up in a log); the server's own message, SQLSTATE,
/// detail and hint are safe to show and say what went wrong. Bound values
/// are never part of the result.
enum FleetDatabaseFailure {
    /// SQLSTATE 42501: insufficient privilege.
    static let insufficientPrivilege = "42501"
    /// SQLSTATE 23505: a unique or primary key was already taken.
    static let uniqueViolation = "23505"
    /// SQLSTATE 23514: a CHECK constraint refused the row.
    static let checkViolation = "23514"
    /// SQLSTATE 23503: a foreign key names a row that is not there.
    static let foreignKeyViolation = "23503"
    /// SQLSTATE 42P01: no such table.
    static let undefinedTable = "42P01"

    /// The SQLSTATE of a server error, looking through a transaction wrapper.
    static func sqlState(_ error: any Error) -> String? {
        serverError(error)?.serverInfo?[.sqlState]
    }

    /// The server error inside `error`, if any.
    static func serverError(_ error: any Error) -> PSQLError? {
        if let psql = error as? PSQLError { return psql.serverInfo == nil ? nil : psql }
        if let transaction = error as? PostgresTransactionError {
            for inner in [transaction.closureError, transaction.beginError, transaction.commitError].compactMap({ $0 }) {
                if let found = serverError(inner) { return found }
            }
        }
        return nil
    }

    /// A ``FleetStoreError`` for `error`, which happened while `doing` something.
    static func describe(_ error: any Error, doing: String) -> FleetStoreError {
        if let already = error as? FleetStoreError { return already }
        if let transaction = error as? PostgresTransactionError {
            if let inner = transaction.closureError as? FleetStoreError { return inner }
            if let inner = transaction.closureError ?? transaction.beginError ?? transaction.commitError {
                return describe(inner, doing: doing)
            }
        }
        if let psql = error as? PSQLError {
            if let info = psql.serverInfo {
                // Escaped: a DETAIL ("Failing row contains (…)") quotes the row's values,
                // which can be a sidecar's text, on its way to a terminal or the journal.
                var text = "\(doing): the server said: \(Escaped(info[.message] ?? "an error"))"
                if let state = info[.sqlState] { text += " (SQLSTATE \(Escaped(state)))" }
                if let detail = info[.detail] { text += "; \(Escaped(detail))" }
                if let hint = info[.hint] { text += "; hint: \(Escaped(hint))" }
                return .refused(text)
            }
            if let underlying = psql.underlying, underlying is NIOSSLError || underlying is NIOSSLExtraError {
                let tls = underlying
                return .unavailable(
                    "\(doing): the TLS handshake failed: the server's certificate was not accepted (is sslrootcert the "
                        + "authority that signed it, and does the certificate name the URL's host?): \(tls)")
            }
            let cause = psql.underlying.map { "\(String(describing: $0))" } ?? "\(psql.code)"
            return .unavailable("\(doing): cannot reach the database (\(cause))")
        }
        if String(describing: error).contains("connectionCreationCircuitBreakerTripped") {
            return .unavailable("\(doing): cannot connect to the database (connections keep failing; is it running?)")
        }
        if error is CancellationError { return .unavailable("\(doing): cancelled") }
        return .unavailable("\(doing): \(String(describing: error))")
    }
}
