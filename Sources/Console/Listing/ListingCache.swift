import FileAccess
import Foundation
import Queue
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `list` derived from each version of each pending proposal file —
/// the row without its waiting state, and the risk hints against the
/// bottle's current file — kept between runs in the operator's cache
/// directory, so that a `list` over a thousand bottles opens only the files
/// that changed since the last one.
///
/// A record is used only while both files are exactly the versions it was
/// made from: a no-follow `fstatat` of the proposal file and a `stat` of the
/// current file must give the identities stored with it
/// (``FileIdentity``; why that holds against a hostile sidecar is there).
/// Anything else — a new or changed file, a link, a FIFO, a file that
/// vanished — is read and checked exactly as without a cache. A record is
/// stored only when both identities were settled when the read began.
///
/// The file is the operator's own (`$XDG_CACHE_HOME/bottle-supervise/`,
/// mode 0600 in a 0700 directory): nothing in the queue writes it, and a
/// queue root's name only chooses which file. It is rewritten whole through
/// a temporary file and a rename, and only when something changed; one
/// that cannot be read, was written by another build, or is damaged is
/// ignored (then replaced), never trusted in part.
///
/// The format is this type's alone, so it is written and parsed by hand
/// rather than as JSON (docs/architecture.md): at 100,000 proposals a
/// `JSONDecoder` would cost more than the files the cache saves reading.
/// One header line, then one section per bottle whose header gives its
/// length, so each bottle's records are parsed by the worker that lists
/// that bottle, on every core.
public struct ListingCache: Sendable {
    /// The bottle's file a proposal's hints were computed against, as it was.
    public enum CurrentFile: Sendable, Hashable {
        /// The bottle had no such file.
        case absent
        case version(FileIdentity)
    }

    /// One proposal file's version and what was derived from it.
    ///
    /// A class: a listing looks each record up twice and hands it on, and
    /// copying its row's dozen strings each time cost more than the lookup.
    public final class Record: Sendable, Equatable {
        public let id: ProposalID
        public let identity: FileIdentity
        public let current: CurrentFile
        /// The row, with `waiting` and `stoppedWaitingAt` as they were then:
        /// those are the directory's, looked up afresh by every listing.
        public let row: ListedProposal

        public init(id: ProposalID, identity: FileIdentity, current: CurrentFile, row: ListedProposal) {
            self.id = id
            self.identity = identity
            self.current = current
            self.row = row
        }

        public static func == (lhs: Record, rhs: Record) -> Bool {
            lhs.id == rhs.id && lhs.identity == rhs.identity && lhs.current == rhs.current && lhs.row == rhs.row
        }
    }

    /// Where the cache lives; `nil`: no cache (a listing reads every file).
    public let file: FilePath?
    /// The file's bytes, as loaded.
    private let bytes: MappedFile
    /// Each bottle's section in ``bytes``.
    private let sections: [String: Range<Int>]

    /// An empty cache that is never saved: every file is read.
    public static let none = ListingCache(file: nil, bytes: .empty, sections: [:])

    private init(file: FilePath?, bytes: MappedFile, sections: [String: Range<Int>]) {
        self.file = file
        self.bytes = bytes
        self.sections = sections
    }

    /// The largest cache file read: about 2,000 bytes a proposal at 100,000
    /// proposals. A larger one is ignored and replaced.
    static let maximumSize = 256 << 20

    /// The cache of `queueRoot` in the cache directory `environment` names
    /// (`$XDG_CACHE_HOME`, else `$HOME/.cache`), loaded; empty when there is
    /// no such file yet, or it cannot be used.
    public static func load(queueRoot: FilePath, environment: [String: String]) -> ListingCache {
        guard let file = location(queueRoot: queueRoot, environment: environment) else { return .none }
        return load(file)
    }

    /// The cache at `file`, loaded.
    public static func load(_ file: FilePath) -> ListingCache {
        let empty = ListingCache(file: file, bytes: .empty, sections: [:])
        guard let mapped = MappedFile(file, limit: maximumSize),
            let sections = CacheText.sections(of: mapped.bytes, header: header)
        else { return empty }
        return ListingCache(file: file, bytes: mapped, sections: sections)
    }

    /// `<cache home>/bottle-supervise/listing-<16 hex digits of the SHA-256 of the queue root's absolute path>`.
    public static func location(queueRoot: FilePath, environment: [String: String]) -> FilePath? {
        let home: FilePath
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            home = FilePath(xdg)
        } else if let user = environment["HOME"], user.hasPrefix("/") {
            home = FilePath(user).appending(".cache")
        } else {
            return nil
        }
        var root = queueRoot
        if !root.isAbsolute { root = FilePath(FileManager.default.currentDirectoryPath).pushing(root) }
        root.lexicallyNormalize()
        let key = SHA256Hex.of(Data(root.string.utf8)).prefix(16)
        return home.appending("bottle-supervise").appending("listing-\(key)")
    }

    /// The first line: the format and the build. Another build may assess
    /// risks by other rules, so its records are not this build's.
    static let header: String = {
        let build = FileIdentity.of(path: "/proc/self/exe").map { "\($0.device):\($0.inode):\($0.size):\($0.modified)" }
        return "bottle-supervise listing cache\t1\t\(ProductVersion.current)\t\(build ?? "-")"
    }()

    /// The records kept for `bottle`, by proposal id (parsed on each call:
    /// one call per bottle, from the worker listing it).
    public func records(of bottle: BottleSlug) -> [ProposalID: Record] {
        guard let range = sections[bottle.rawValue] else { return [:] }
        return CacheText.records(in: UnsafeBufferPointer(rebasing: bytes.bytes[range]), of: bottle)
    }

    /// Whether any bottle has records.
    public var isEmpty: Bool { sections.isEmpty }

    /// Keeps what `listing` found for the next listing, if it changed anything.
    public func keep(_ listing: FleetListing.Result) {
        if listing.changed { save(listing.records) }
    }

    /// Replaces the cache file with `records`, by bottle. Failures are
    /// ignored: the cache only saves time, and the next listing reads the
    /// files instead.
    public func save(_ records: [BottleSlug: [Record]]) {
        guard let file else { return }
        let directory = file.removingLastComponent()
        _ = mkdir(directory.removingLastComponent().string, 0o700)
        _ = mkdir(directory.string, 0o700)
        var text = [UInt8](Self.header.utf8)
        text.append(UInt8(ascii: "\n"))
        for bottle in records.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let kept = records[bottle], !kept.isEmpty else { continue }
            var section: [UInt8] = []
            for record in kept { CacheText.append(record, to: &section) }
            text += Array("B\t\(bottle.rawValue)\t\(section.count)\n".utf8)
            text += section
        }
        try? AtomicFile.write(Data(text), to: file, mode: 0o600, durable: false)
    }
}
