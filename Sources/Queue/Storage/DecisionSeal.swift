import Crypto
import FileAccess
import FoundationEssentials
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How the host tells the decisions it made from files the sidecar wrote.
///
/// A bottle's queue directory is the sidecar's to write (a compromised agent
/// controls it), so a `<id>.decision.json` there proves nothing by being
/// there. The host therefore seals every decision it writes with an
/// HMAC-SHA256 under a key kept at `<queue-root>/.decision-key` (mode 0600,
/// owned by the operator): outside every bottle's directory, which is all a
/// sidecar ever has mounted (docs/security.md, "Only the host decides").
///
/// The MAC covers the whole decision: the canonical text
/// (``JSONValue/canonicalText``) of the file's JSON object without its
/// `host_mac` member, prefixed by the bottle's slug. So a field added to
/// ``Decision`` later (an expiry, a preset answer) is covered without a
/// change here, a field a forger adds breaks the MAC, and a decision cannot
/// be moved to another bottle. The host renews the MAC whenever it rewrites
/// the decision (``BottleQueue/recordApply(_:for:)``).
///
/// A MAC alone cannot tell the host's latest version of a decision from an
/// older one it also sealed (the claim, `apply: pending`, before the outcome):
/// a sidecar that kept the older file could put it back. So before the host
/// rewrites a decision (``BottleQueue/recordApply(_:for:)``) it keeps a copy
/// of the new bytes under `<queue-root>/.host-decisions/<slug>/`, out of every
/// sidecar's reach; a sealed file that differs from that copy is a replay,
/// set aside like a forgery, and the host's copy is what counts.
///
/// When the key is first made, the decision files already in the queue root
/// that the audit log has a `decision` record for (same bottle, id, status
/// and operator) are listed with their hashes in `.unsigned-decisions`: those
/// were written before decisions were sealed, and are shown as
/// ``DecisionOrigin/unsigned`` rather than forged, as long as their bytes are
/// unchanged. A decision file the audit log does not know (one a sidecar
/// planted before the host's first command) is not listed. Once a root has
/// been sealed, a missing key is never silently made again.
public final class DecisionSeal: Sendable {
    /// The key's file name in the queue root (a dot name: never a slug).
    public static let keyName = ".decision-key"
    /// The decisions found when the key was made, one `<slug>/<id> <sha256>` a line.
    public static let unsignedListName = ".unsigned-decisions"
    /// Where forged decision files are moved, one directory per bottle.
    public static let setAsideName = ".forged-decisions"
    /// Where the host keeps a copy of each decision it rewrote, one directory per bottle.
    public static let hostCopiesName = ".host-decisions"
    /// How many forged files are kept (and audited) per proposal: a sidecar
    /// writing forgeries in a loop must not fill the disk or the audit log.
    /// Later ones replace one another under a single `<id>.overflow` name.
    public static let setAsideLimit = 8

    /// The queue root the key belongs to.
    public let root: FilePath
    /// The key's bytes (`SymmetricKey` is not `Sendable`; one is made per use).
    private let keyBytes: Data
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    private let unsigned = Mutex<[String: String]?>(nil)

    private init(root: FilePath, key: Data) {
        self.root = root
        self.keyBytes = key
    }

    // MARK: - The key

    private static let loaded = Mutex<[String: DecisionSeal]>([:])

    /// The seal of the queue root at `root`, its key read once per process,
    /// or made (with the list of unsigned decisions) when there is none yet.
    /// - Throws: when the key file is not a regular file of mode 0600 owned
    ///   by this user, or cannot be read or made; the message says how to fix it.
    public static func of(root: FilePath) throws(QueueError) -> DecisionSeal {
        if let seal = loaded.withLock({ $0[root.string] }) { return seal }
        let keyPath = root.appending(keyName)
        let seal: DecisionSeal
        if let key = try readKey(keyPath) {
            seal = DecisionSeal(root: root, key: key)
        } else {
            seal = try makeKey(root: root, keyPath: keyPath)
        }
        return loaded.withLock { cache in
            if let other = cache[root.string] { return other }
            cache[root.string] = seal
            return seal
        }
    }

    /// Makes the root's key, holding the root's key lock (``withCreationLock(of:_:)``): the list of
    /// unsigned decisions is written before the key, so a second host command that found no key
    /// and did not wait would find that list and take the root for one whose key went missing.
    /// Under the lock it looks for the key again, and uses one another process made meanwhile.
    private static func makeKey(root: FilePath, keyPath: FilePath) throws(QueueError) -> DecisionSeal {
        try withCreationLock(of: root) { () throws(QueueError) -> DecisionSeal in
            if let key = try readKey(keyPath) { return DecisionSeal(root: root, key: key) }
            try refuseRemakingKey(root: root, keyPath: keyPath)
            try writeUnsignedList(root: root)
            let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            let text = fresh.withUnsafeBytes { Hex.encode($0) } + "\n"
            let created = try QueueError.mapping { () throws(FileAccessError) in 
                try AtomicFile.create(Data(text.utf8), at: keyPath, mode: 0o600)
            }
            if created {
                return DecisionSeal(root: root, key: fresh)
            }
            // Made by a process that does not take the lock (an older version): use theirs.
            guard let key = try readKey(keyPath) else {
                throw .malformedFile(path: keyPath.string, reason: "vanished while it was being made; run the command again")
            }
            return DecisionSeal(root: root, key: key)
        }
    }

    /// How long a host command waits for another to finish making the key (milliseconds of
    /// work) before it says so: a process holding the lock longer is stuck, or hostile.
    static let creationLockWait: Duration = .seconds(10)

    /// The lock file taken while the key is made (a dot name: never a slug).
    public static let keyLockName = ".decision-key.lock"

    /// Runs `body` holding an exclusive `flock` on ``keyLockName`` in the queue root. Taken only
    /// while a key is made, once per root.
    ///
    /// Why a file of the owner's, mode 0600, and not the root directory itself: `flock` needs
    /// only a read descriptor, and any local user who can read the root (0755, say) can open
    /// the directory, so they could hold a lock on it and make every host command fail until they
    /// let go. Nobody else can open this file, nor put one of their own (a link, a FIFO) in its
    /// place in a root only the owner may write; what is found there is checked anyway, so in a
    /// sticky root others may write what they plant is refused (a nuisance they can repeat, as
    /// with the key's own name, not a lock they hold).
    private static func withCreationLock<Result>(of root: FilePath, _ body: () throws(QueueError) -> Result)
        throws(QueueError) -> Result
    {
        let path = root.appending(keyLockName)
        let fd = try openLockFile(path)
        defer { close(fd) }
        let clock = ContinuousClock()
        let deadline = clock.now + creationLockWait
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            switch errno {
            case EWOULDBLOCK, EINTR: break
            // A file system without flock (some network mounts): made unlocked, as before.
            case ENOLCK, EOPNOTSUPP: return try body()
            case let code: throw .io(operation: "flock", path: path.string, errno: code)
            }
            guard clock.now < deadline else {
                throw .malformedFile(
                    path: root.appending(keyName).string,
                    reason: "another process of yours has held \(path.string) for \(creationLockWait) while making "
                        + "the host's decision key; find it (fuser -v \(ShellWord(path.string))), stop it, and run the command again")
            }
            usleep(5_000)
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// The lock file at `path`, opened for reading and writing (an exclusive `flock` that a
    /// network file system emulates with a byte-range lock needs a descriptor open for writing),
    /// and made mode 0600 when it is not there yet. Whatever else is found there (a link, a
    /// directory, a FIFO, a socket, a file someone else could open) is refused, saying what it
    /// is and to remove it; a FIFO is opened without waiting for a writer (`O_NONBLOCK`).
    private static func openLockFile(_ path: FilePath) throws(QueueError) -> Int32 {
        let flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC
        var fd = open(path.string, flags | O_CREAT | O_EXCL, 0o600)
        if fd >= 0 {
            // Made now: exactly 0600 whatever the umask (one of 0400 would make a file nobody can reopen).
            _ = fchmod(fd, 0o600)
            return fd
        }
        if errno == EEXIST { fd = open(path.string, flags) }
        guard fd >= 0 else {
            let code = errno
            var info = stat()
            if code != ENOENT, lstat(path.string, &info) == 0, let problem = lockFileProblem(info) {
                throw lockFileRefusal(path, problem: problem)
            }
            throw .io(operation: "open", path: path.string, errno: code)
        }
        do throws(QueueError) {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw QueueError.io(operation: "stat", path: path.string, errno: errno) }
            if let problem = lockFileProblem(info) { throw lockFileRefusal(path, problem: problem) }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// What is wrong with a lock file described by `info`, or `nil`: it must be a regular file of
    /// the effective user's alone, readable and writable by them, with one name, so nobody else can
    /// open it (and so hold it) and it stands for no other file.
    private static func lockFileProblem(_ info: stat) -> String? {
        if info.st_mode & S_IFMT != S_IFREG {
            "it is \(FileAccessError.kind(info.st_mode))"
        } else if info.st_uid != geteuid() {
            "it belongs to uid \(info.st_uid), not to you (uid \(geteuid()))"
        } else if info.st_mode & 0o077 != 0 {
            "it is mode \(String(info.st_mode & 0o777, radix: 8)), so others can open it"
        } else if info.st_mode & 0o600 != 0o600 {
            "it is mode \(String(info.st_mode & 0o777, radix: 8)), so you cannot open it"
        } else if info.st_nlink != 1 {
            "it has \(info.st_nlink) names (hard links)"
        } else {
            nil
        }
    }

    private static func lockFileRefusal(_ path: FilePath, problem: String) -> QueueError {
        .malformedFile(
            path: path.string,
            reason: "the host's lock for making its decision key must be a regular file of yours, mode 0600, "
                + "with one name, but \(problem); remove it and run the command again")
    }

    /// Forgets the keys read so far: for tests that remove a queue root's key.
    static func forgetLoadedKeys() {
        loaded.withLock { $0.removeAll() }
    }

    /// Fails when the key is missing from a root whose decisions were sealed
    /// before (its list of unsigned decisions, or the host's copies, exist):
    /// a key made now would list every decision file there, forgeries
    /// included, as "unsigned", and seal them anew as the operator's.
    private static func refuseRemakingKey(root: FilePath, keyPath: FilePath) throws(QueueError) {
        let evidence = [unsignedListName, hostCopiesName].map { root.appending($0) }.filter { path in
            var info = stat()
            return lstat(path.string, &info) == 0
        }
        guard let found = evidence.first else { return }
        throw .malformedFile(
            path: keyPath.string,
            reason: "the host's decision key is missing, but this queue root's decisions were sealed with one "
                + "(\(found.string) exists), so a new key would let any decision file pass as the host's. "
                + "Put the key back from a backup; or, to start over with a new key (after a leak), archive "
                + "or finish what is decided, then remove \(root.appending(unsignedListName).string) and "
                + "\(root.appending(hostCopiesName).string): decisions sealed with the old key then read as forged")
    }

    /// The root's key, read through the one owner-only reader (``OwnerOnlyFile``): not a link,
    /// a regular file, the effective user's, mode 0600 or stricter, 64 hex digits and a newline.
    private static func readKey(_ path: FilePath) throws(QueueError) -> Data? {
        let bytes: [UInt8]
        do throws(FileAccessError) {
            guard let read = try OwnerOnlyFile.read(path.string, maxBytes: 65) else { return nil }
            bytes = read
        } catch {
            throw keyRefusal(error, path: path)
        }
        guard bytes.count == 65 || bytes.count == 64, let key = Hex.decode(bytes[0..<64]) else {
            throw .malformedFile(path: path.string, reason: "the host's decision key is not 64 hex digits")
        }
        return key
    }

    /// Why the key at `path` is refused, in the words the host has always used for its key.
    private static func keyRefusal(_ error: FileAccessError, path: FilePath) -> QueueError {
        switch error {
        case .symbolicLink:
            .malformedFile(
                path: path.string, reason: "the host's decision key is a symbolic link; remove it and run again")
        case .notRegularFile:
            .malformedFile(path: path.string, reason: "the host's decision key is not a regular file")
        case .foreignOwner(_, let owner, let expected):
            .malformedFile(
                path: path.string,
                reason: "the host's decision key belongs to uid \(owner), not to you (uid \(expected)); "
                    + "run as the queue root's owner")
        case .readableByOthers(_, let mode):
            .malformedFile(
                path: path.string,
                reason: "the host's decision key is mode \(String(mode & 0o777, radix: 8)); "
                    + "anyone who can read it can forge decisions: chmod 600 it (and consider it leaked: "
                    + "see docs/security.md, \"Only the host decides\", for making a new one)")
        case .hardLinked, .untrustedDirectory:
            .malformedFile(path: path.string, reason: "the host's decision key " + error.reason)
        case .tooLarge:
            .malformedFile(path: path.string, reason: "the host's decision key is not 64 hex digits")
        case .io:
            QueueError(error)
        }
    }

    /// Lists every decision file under `root` that the audit log recorded
    /// the host making, with its hash: what existed before the host sealed
    /// decisions. Unreadable files are left out (they stay unreadable errors),
    /// and so are files the audit log does not know.
    private static func writeUnsignedList(root: FilePath) throws(QueueError) {
        let recorded = auditedDecisions(root: root)
        var text = ""
        for bottle in (try? QueueRoot(root).bottles()) ?? [] {
            let live = try? QueueDirectory.open(root.appending(bottle.rawValue))
            let archive = try? live?.subdirectory(QueueLayout.archiveName)
            for folder in [live, archive].compactMap({ $0 }) {
                for name in (try? folder.names()) ?? [] {
                    guard let id = QueueLayout.id(in: name, suffix: QueueLayout.decisionSuffix),
                        let data = try? folder.read(name),
                        let decision = try? QueueFormat.decode(Decision.self, from: data, path: name),
                        recorded.contains(
                            AuditedDecision(
                                bottle: bottle.rawValue, id: id.rawValue, status: decision.status.rawValue,
                                by: decision.decidedBy))
                    else { continue }
                    text += "\(bottle.rawValue)/\(id.rawValue) \(SHA256Hex.of(data))\n"
                }
            }
        }
        try QueueError.mapping { () throws(FileAccessError) in
            try AtomicFile.write(Data(text.utf8), to: root.appending(unsignedListName), mode: 0o600)
        }
    }

    /// One `decision` record of the audit log, as far as grandfathering needs it.
    private struct AuditedDecision: Hashable {
        let bottle: String
        let id: String
        let status: String
        let by: String
    }

    /// The `decision` records of `<root>/audit.log` (read through the guarded
    /// open, regular files only). The log is the host's: the chain
    /// (`bottle-supervise log --verify`) says whether it was edited.
    private static func auditedDecisions(root: FilePath) -> Set<AuditedDecision> {
        guard let data = try? AtomicFile.read(root.appending("audit.log"), regularOnly: true) else { return [] }
        var found: Set<AuditedDecision> = []
        for line in data.split(separator: UInt8(ascii: "\n")) {
            // The project's own reader: a line it refuses (torn, or a duplicate key) grandfathers nothing.
            guard
                let object = try? Array(line).withUnsafeBufferPointer({ (bytes) throws(JSONSyntaxError) in
                    try JSONValue.parse(bytes, policy: JSONPolicy(duplicateKeys: .refuse, loneSurrogates: .replace))
                }),
                object["event"] == "decision", let bottle = object["bottle"]?.stringValue,
                let id = object["id"]?.stringValue, let status = object["status"]?.stringValue,
                let by = object["by"]?.stringValue
            else { continue }
            found.insert(AuditedDecision(bottle: bottle, id: id, status: status, by: by))
        }
        return found
    }

    private func isUnsigned(_ data: Data, bottle: BottleSlug, id: ProposalID) -> Bool {
        let list = unsigned.withLock { cached in
            if let cached { return cached }
            var list: [String: String] = [:]
            let path = root.appending(Self.unsignedListName)
            if let data = try? AtomicFile.read(path, regularOnly: true) {
                for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                    let parts = line.split(separator: " ")
                    if parts.count == 2 { list[String(parts[0])] = String(parts[1]) }
                }
            }
            cached = list
            return list
        }
        return list["\(bottle.rawValue)/\(id.rawValue)"] == SHA256Hex.of(data)
    }

    // MARK: - Sealing and judging

    /// `decision` as the host writes it: with its MAC, and the file's bytes.
    func sealed(_ decision: Decision, bottle: BottleSlug) throws(QueueError) -> (decision: Decision, data: Data) {
        var sealed = decision
        sealed.hostMAC = nil
        sealed.origin = .unverified
        let plain = try Self.encode(sealed)
        guard let text = Self.canonicalText(of: plain).text else {
            throw .malformedFile(path: root.string, reason: "could not seal a decision: its encoding does not parse")
        }
        sealed.hostMAC = mac(text, bottle: bottle)
        let data = try Self.encode(sealed)
        sealed.origin = .host
        return (sealed, data)
    }

    /// Who made the decision file `data` (already decoded as `decision`).
    /// A file the host sealed that is not its latest version of the decision
    /// (``hostCopy(of:bottle:)``) is a replay: ``DecisionOrigin/forged``.
    func origin(of data: Data, decision: Decision, bottle: BottleSlug) -> DecisionOrigin {
        let (text, claimed) = Self.canonicalText(of: data)
        if let text, let claimed, let code = Hex.decode(claimed.utf8),
            HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: Self.message(text, bottle: bottle), using: key)
        {
            if let copy = hostCopy(of: decision.id, bottle: bottle), copy != data { return .forged }
            return .host
        }
        if !(decision.status.isApproval || decision.status == .rejected) { return .sidecar }
        if isUnsigned(data, bottle: bottle, id: decision.id) { return .unsigned }
        return .forged
    }

    // MARK: - The host's copies

    private func hostCopies(of bottle: BottleSlug) -> FilePath {
        root.appending(Self.hostCopiesName).appending(bottle.rawValue)
    }

    /// Keeps `data`, the decision on `id` the host is about to write, as the
    /// host's latest version of it. Written before the decision file, so a
    /// crash in between leaves the copy newer, never older.
    func keepHostCopy(_ data: Data, of id: ProposalID, bottle: BottleSlug) throws(QueueError) {
        try QueueError.mapping { () throws(FileAccessError) in 
            try AtomicFile.makeDirectory(root.appending(Self.hostCopiesName), mode: 0o700)
            try AtomicFile.makeDirectory(hostCopies(of: bottle), mode: 0o700)
        }
        guard let folder = try QueueDirectory.open(hostCopies(of: bottle)) else {
            throw .io(operation: "open", path: hostCopies(of: bottle).string, errno: ENOENT)
        }
        try QueueError.mapping { () throws(FileAccessError) in 
            try AtomicFile.write(
                data, named: id.rawValue + QueueLayout.decisionSuffix, in: folder.directory, mode: 0o600)
        }
    }

    /// The host's latest version of the decision on `id`, when it rewrote it
    /// at least once; `nil` for a decision only ever made (never changed since).
    func hostCopy(of id: ProposalID, bottle: BottleSlug) -> Data? {
        guard let folder = try? QueueDirectory.open(hostCopies(of: bottle)) else { return nil }
        return try? folder.read(id.rawValue + QueueLayout.decisionSuffix)
    }

    private func mac(_ text: String, bottle: BottleSlug) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Self.message(text, bottle: bottle), using: key)
        return code.withUnsafeBytes { Hex.encode($0) }
    }

    private static func message(_ text: String, bottle: BottleSlug) -> Data {
        Data("bottle-supervise decision 1\n\(bottle.rawValue)\n\(text)".utf8)
    }

    private static func encode(_ decision: Decision) throws(QueueError) -> Data {
        do { return try QueueFormat.encode(decision) } catch {
            throw .malformedFile(path: "decision \(decision.id)", reason: "could not encode: \(error)")
        }
    }

    /// The canonical text of the JSON object in `data` without its
    /// `host_mac` member, and that member's value when it is a string.
    static func canonicalText(of data: Data) -> (text: String?, mac: String?) {
        var problems = ProblemList()
        guard let node = StrictJSONParser.parse(String(decoding: data, as: UTF8.self), problems: &problems),
            problems.isEmpty, case .object(let members) = node.value
        else { return (nil, nil) }
        var mac: String?
        var rest: [JSONMember] = []
        for member in members {
            if member.key == "host_mac" {
                if case .string(let value) = member.value { mac = value }
            } else {
                rest.append(member)
            }
        }
        return (JSONValue.object(rest).canonicalText, mac)
    }

    // MARK: - Forged decisions

    /// What the host found and set aside: a decision file it did not make.
    public struct ForgedDecision: Sendable {
        /// The queue root it was found under.
        public let queueRoot: FilePath
        public let bottle: BottleSlug
        public let id: ProposalID
        /// The tool of the proposal it claims to decide, when that proposal could be read.
        public let tool: Tool?
        /// The decision as the file claims it (never believed); `nil` when it
        /// does not even read as one (``unreadable`` says why).
        public let claimed: Decision?
        /// Why the file does not read as a decision, when it does not.
        public let unreadable: String?
        /// SHA-256 of the file's bytes.
        public let sha256: String
        /// Where the file is now, under the queue root.
        public let movedTo: FilePath
        /// Whether it was in the archive (the sidecar answered with it and archived it).
        public let wasArchived: Bool
    }

    private static let witness = Mutex<(@Sendable (ForgedDecision) -> Void)?>(nil)

    /// Installs what the host does with a forged decision it set aside (the
    /// executable records it in the audit log). Called once at start; only
    /// the process whose move succeeded reports it, so each is recorded once.
    public static func onForgedDecision(_ report: @escaping @Sendable (ForgedDecision) -> Void) {
        witness.withLock { $0 = report }
    }

    /// Moves the forged decision file `name` out of `folder` (the bottle's
    /// directory or its archive) into `<root>/.forged-decisions/<slug>/`,
    /// where the sidecar cannot reach it, freeing the name for the
    /// operator's own decision. If the file moved turns out to be one the
    /// host sealed (another host process decided between our read and our
    /// move), it is put back.
    /// - Returns: whether this call moved it (and reported it).
    @discardableResult
    func setAside(
        _ data: Data, claimed: Decision?, unreadable: String? = nil, named name: String, in folder: QueueDirectory,
        bottle: BottleSlug, id: ProposalID, tool: Tool?, archived: Bool
    ) -> Bool {
        let directory = root.appending(Self.setAsideName).appending(bottle.rawValue)
        guard (try? AtomicFile.makeDirectory(directory, mode: 0o700)) != nil,
            let destination = try? QueueDirectory.open(directory)
        else { return false }
        let digest = SHA256Hex.of(data)
        let overflowName = "\(id.rawValue).overflow\(QueueLayout.decisionSuffix)"
        let kept = ((try? destination.names()) ?? []).filter {
            $0.hasPrefix(id.rawValue + ".") && $0.hasSuffix(QueueLayout.decisionSuffix) && $0 != overflowName
        }
        // Past the limit, a new forgery replaces the last overflow one and is not reported again.
        let overflowing = kept.count >= Self.setAsideLimit
        let newName =
            overflowing
            ? overflowName
            : "\(id.rawValue).\(Timestamp.format(Date())).\(digest.prefix(12))\(QueueLayout.decisionSuffix)"
        guard renameat(folder.descriptor, name, destination.descriptor, newName) == 0 else { return false }
        if let moved = try? destination.read(newName),
            let decision = try? QueueFormat.decode(Decision.self, from: moved, path: newName),
            origin(of: moved, decision: decision, bottle: bottle) == .host
        {
            if linkat(destination.descriptor, newName, folder.descriptor, name, 0) == 0 {
                unlinkat(destination.descriptor, newName, 0)
            }
            return false
        }
        fsync(destination.descriptor)
        fsync(folder.descriptor)
        if overflowing { return true }
        let report = ForgedDecision(
            queueRoot: root, bottle: bottle, id: id, tool: tool, claimed: claimed, unreadable: unreadable,
            sha256: digest, movedTo: directory.appending(newName), wasArchived: archived)
        Self.witness.withLock { $0 }?(report)
        return true
    }

    /// The forged decisions set aside for proposal `id`, oldest first, as
    /// the files claim them (``DecisionOrigin/forged``).
    func setAside(of id: ProposalID, bottle: BottleSlug) -> [Decision] {
        let directory = root.appending(Self.setAsideName).appending(bottle.rawValue)
        guard let folder = try? QueueDirectory.open(directory), let names = try? folder.names() else { return [] }
        return names.filter { $0.hasPrefix(id.rawValue + ".") && $0.hasSuffix(QueueLayout.decisionSuffix) }.sorted()
            .compactMap { name in
                guard let data = try? folder.read(name),
                    var decision = try? QueueFormat.decode(Decision.self, from: data, path: name)
                else { return nil }
                decision.origin = .forged
                return decision
            }
    }
}

/// Lowercase hex, both ways, for the key file and the MAC.
enum Hex {
    static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode<Digits: Collection<UInt8>>(_ digits: Digits) -> Data? {
        guard digits.count % 2 == 0 else { return nil }
        var out = Data(capacity: digits.count / 2)
        var high: UInt8?
        for digit in digits {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let first = high {
                out.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return out
    }
}
