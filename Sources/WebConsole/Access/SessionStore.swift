import Crypto
import Foundation

/// Who may use the web console: one-time login codes, and the sessions they
/// open.
///
/// A login code is printed at start as a URL; the first request that brings
/// it gets a session and the code is gone, so a URL that leaks afterwards
/// (shell history, a screenshot, a proxy log) opens nothing. The access
/// token from its 0600 file is the way back in when the URL is spent.
/// Each session has its own CSRF token, which every form carries. Sessions
/// live in memory: a restart logs everyone out. Comparisons of secrets take
/// the same time whatever they share.
public actor SessionStore {
    /// A logged-in browser.
    public struct Session: Sendable, Equatable {
        public let id: String
        public let csrf: String
        /// The named fleet operator who signed in with their one-time link
        /// (`operators add`); `nil` for the host's own login (the start-up
        /// URL or the access token), which decides as the host's user.
        public let operatorName: String?
        /// When that operator was added (their identity: a name removed and
        /// added again is another operator); `nil` for the host's own login.
        public let operatorAddedAt: Date?
        var lastSeen: Date
    }

    private let accessToken: String
    private var loginCodes: [String: Date] = [:]
    private var sessions: [String: Session] = [:]
    private let idleLimit: TimeInterval
    private let codeLifetime: TimeInterval
    private let now: @Sendable () -> Date

    public init(
        accessToken: String, idleLimit: TimeInterval = 12 * 3600, codeLifetime: TimeInterval = 15 * 60,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.accessToken = accessToken
        self.idleLimit = idleLimit
        self.codeLifetime = codeLifetime
        self.now = now
    }

    /// A new one-time login code.
    public func newLoginCode() -> String {
        let code = Self.randomHex(bytes: 24)
        loginCodes[code] = now()
        return code
    }

    /// Spends `code`: a session if it was valid and unused, else `nil`.
    public func redeem(code: String) -> Session? {
        let match = loginCodes.keys.first { Self.same($0, code) }
        guard let match, let issued = loginCodes.removeValue(forKey: match) else { return nil }
        guard now().timeIntervalSince(issued) <= codeLifetime else { return nil }
        return open()
    }

    /// A session for whoever knows the access token; `nil` otherwise.
    public func logIn(token: String) -> Session? {
        Self.same(token.trimmingCharacters(in: .whitespacesAndNewlines), accessToken) ? open() : nil
    }

    /// The live session with `id`, refreshed; `nil` when unknown or idle too long.
    public func session(_ id: String) -> Session? {
        guard let match = sessions.keys.first(where: { Self.same($0, id) }), var session = sessions[match] else {
            return nil
        }
        guard now().timeIntervalSince(session.lastSeen) <= idleLimit else {
            sessions[match] = nil
            return nil
        }
        session.lastSeen = now()
        sessions[match] = session
        return session
    }

    /// A session for the fleet operator `name`, whose sign-in link the
    /// fleet database has just spent (``OperatorStore/signIn(token:)``).
    public func open(operator name: String, addedAt: Date) -> Session {
        open(operatorName: name, addedAt: addedAt)
    }

    /// Ends a session.
    public func close(_ id: String) {
        sessions[id] = nil
    }

    private func open(operatorName: String? = nil, addedAt: Date? = nil) -> Session {
        let session = Session(
            id: Self.randomHex(bytes: 32), csrf: Self.randomHex(bytes: 32), operatorName: operatorName,
            operatorAddedAt: addedAt, lastSeen: now())
        sessions[session.id] = session
        return session
    }

    /// Equality in time that depends only on the lengths.
    static func same(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// `bytes` bytes from the system's random generator, as lower-case hex.
    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
        }.joined()
    }
}
