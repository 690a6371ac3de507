import Foundation
import SystemPackage
import Testing

@testable import Queue

/// What a decoder made of a proposal file: the proposal, or the kind of refusal.
private enum Outcome: Equatable, CustomStringConvertible {
    case proposal(Proposal)
    case unsupportedFormat(Int)
    case refused

    init(_ decode: () throws(QueueError) -> Proposal) {
        do throws(QueueError) {
            self = .proposal(try decode())
        } catch {
            if case .unsupportedFormat(_, let version) = error {
                self = .unsupportedFormat(version)
            } else {
                self = .refused
            }
        }
    }

    var description: String {
        switch self {
        case .proposal(let proposal):
            "a proposal (\(proposal.id), \(proposal.justification.utf8.count) bytes of justification)"
        case .unsupportedFormat(let version): "format \(version)"
        case .refused: "refused"
        }
    }
}

/// The listing's decoder and the full decode, on one file's bytes.
private func outcomes(_ bytes: [UInt8]) -> (listed: Outcome, full: Outcome) {
    let data = Data(bytes)
    return (
        Outcome { () throws(QueueError) in try Proposal.listed(from: data, path: { "p.json" }) },
        Outcome { () throws(QueueError) in try QueueFormat.decode(Proposal.self, from: data, path: "p.json") }
    )
}

/// A proposal file as the sidecar writes it, as a JSON object to vary.
private func record(justification: String = "tests need it") -> [String: Any] {
    let proposal = Proposal(
        id: try! ProposalID("20261125-024903-3fa9c2d1e4b7"), bottle: slug("b1"), tool: .pipelockBlock,
        proposedFile: "api.github.com\n", justification: justification, currentFileSHA256: SHA256Hex.of("x"),
        createdAt: Date(timeIntervalSince1970: 1_790_000_000.125))
    return try! JSONSerialization.jsonObject(with: try! QueueFormat.encode(proposal)) as! [String: Any]
}

private func bytes(_ object: [String: Any]) -> [UInt8] {
    Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The same record with one member replaced (or removed, for `nil`).
private func with(_ key: String, _ value: Any?) -> [UInt8] {
    var object = record()
    object[key] = value
    return bytes(object)
}

/// The valid record's text with `old` replaced by `new`, for what
/// `JSONSerialization` would not write (duplicates, escapes, bad bytes).
private func edited(_ old: String, _ new: String) -> [UInt8] {
    let text = String(decoding: bytes(record()), as: UTF8.self)
    precondition(text.contains(old), "\(old) is not in the record")
    return Array(text.replacingOccurrences(of: old, with: new).utf8)
}

@Suite("The listing's fast path for proposal files")
struct ListedProposalTests {
    /// Files the sidecar writes, and the ways a compromised one could vary
    /// them; the name says what each holds.
    static let files: [(String, [UInt8])] = [
        ("as written", bytes(record())),
        ("no current file (null)", with("current_file_sha256", NSNull())),
        ("no current file (absent)", with("current_file_sha256", nil)),
        ("a deadline", with("expires_at", "2026-11-26T02:49:03.125Z")),
        ("a null deadline", with("expires_at", NSNull())),
        ("a timestamp without fraction", with("created_at", "2026-11-25T02:49:03Z")),
        ("a timestamp with an offset", with("created_at", "2026-11-25T02:49:03.125+02:00")),
        ("an unknown member", with("colour", ["nested": [1, 2, 3]])),
        (
            "escape sequences in the justification",
            with("justification", "ok\u{1B}[2J\u{1B}]0;owned\u{07}\u{9B}31m\r\n\u{202E}")
        ),
        (
            "a justification over the limit",
            with("justification", String(repeating: "j", count: Proposal.maximumJustificationSize + 1))
        ),
        ("a NUL in the justification", with("justification", "a\u{0}b")),
        ("a forged hash", with("proposed_file_sha256", "not-a-hash")),
        ("format 2", with("format", 2)),
        ("format 0", with("format", 0)),
        ("format 1.0", edited("\"format\":1", "\"format\":1.0")),
        ("format 1e0", edited("\"format\":1", "\"format\":1e0")),
        ("format -0", edited("\"format\":1", "\"format\":-0")),
        ("format 1.5", edited("\"format\":1", "\"format\":1.5")),
        ("format as a string", with("format", "1")),
        ("format huge", edited("\"format\":1", "\"format\":1e400")),
        ("id as a number", with("id", 5)),
        ("id that is a path", with("id", "../../etc/passwd")),
        ("bottle that is a path", with("bottle", "../other")),
        ("unknown tool", with("tool", "shell-block")),
        ("justification as an array", with("justification", ["a", "b"])),
        ("proposed file as null", with("proposed_file", NSNull())),
        ("created_at as a number", with("created_at", 1_790_000_000)),
        ("created_at not a time", with("created_at", "yesterday")),
        ("current hash as true", with("current_file_sha256", true)),
        ("deadline as a number", with("expires_at", 5)),
        ("missing format", with("format", nil)),
        ("missing id", with("id", nil)),
        ("missing bottle", with("bottle", nil)),
        ("missing tool", with("tool", nil)),
        ("missing proposed file", with("proposed_file", nil)),
        ("missing justification", with("justification", nil)),
        ("missing proposed hash", with("proposed_file_sha256", nil)),
        ("missing created_at", with("created_at", nil)),
        ("duplicate justification", edited("\"justification\":", "\"justification\":\"first\",\"justification\":")),
        (
            "duplicate proposed file",
            edited("\"proposed_file\":", "\"proposed_file\":\"evil.example\\n\",\"proposed_file\":")
        ),
        ("duplicate format", edited("\"format\":1", "\"format\":1,\"format\":2")),
        ("a duplicate inside an unknown member", edited("\"format\":1", "\"format\":1,\"x\":{\"k\":1,\"k\":2}")),
        (
            "forty unknown members",
            edited("\"format\":1", "\"format\":1" + (0..<40).map { ",\"k\($0)\":\($0)" }.joined())
        ),
        (
            "forty unknown members, one twice",
            edited("\"format\":1", "\"format\":1" + (0..<40).map { ",\"k\($0)\":\($0)" }.joined() + ",\"k29\":0")
        ),
        (
            "forty unknown members, then the justification again",
            edited("\"format\":1", "\"format\":1" + (0..<40).map { ",\"k\($0)\":\($0)" }.joined()).dropLast()
                + bytes(",\"justification\":\"x\"}")
        ),
        ("an escaped key", edited("\"justification\":", "\"justific\\u0061tion\":")),
        ("a byte order mark", [0xEF, 0xBB, 0xBF] + bytes(record())),
        ("a trailing comma", bytes(record()).dropLast() + bytes(",}")),
        ("text after the object", bytes(record()) + bytes(" {}")),
        ("a lone surrogate escape", edited("\"tests need it\"", "\"tests \\ud800 need it\"")),
        ("a surrogate pair escape", edited("\"tests need it\"", "\"tests \\ud83d\\ude00 need it\"")),
        ("invalid UTF-8", edited("\"tests need it\"", "\"tests \u{FFFD} need it\"").map { $0 == 0xEF ? 0xFF : $0 }),
        ("a raw control character", edited("\"tests need it\"", "\"tests \u{01} need it\"")),
        (
            "nesting 100 deep",
            edited(
                "\"format\":1",
                "\"format\":1,\"x\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100))
        ),
        ("an array", bytes("[1, 2]")),
        ("null", bytes("null")),
        ("empty", []),
        ("half a file", Array(bytes(record()).prefix(40))),
    ]

    @Test("gives the full decode's proposal or its refusal, file for file", arguments: files.map(\.0))
    func agrees(_ name: String) throws {
        let file = try #require(Self.files.first { $0.0 == name }?.1)
        let (listed, full) = outcomes(file)
        #expect(listed == full, "\(name): listing \(listed), full decode \(full)")
    }

    @Test("reads what the sidecar writes, and refuses what Foundation alone would take")
    func strictWhereFoundationIsNot() throws {
        #expect(
            outcomes(bytes(record())).listed
                == .proposal(try QueueFormat.decode(Proposal.self, from: Data(bytes(record())), path: "p")))
        struct ProposedFileOnly: Decodable { var proposed_file: String }
        for name in ["duplicate proposed file", "a byte order mark", "a trailing comma", "nesting 100 deep"] {
            let file = try #require(Self.files.first { $0.0 == name }?.1)
            // JSONDecoder on its own accepts each of these, and of two values keeps the first.
            let alone = try? JSONDecoder().decode(ProposedFileOnly.self, from: Data(file))
            #expect(alone != nil, "\(name)")
            if name == "duplicate proposed file" { #expect(alone?.proposed_file == "evil.example\n") }
            #expect(outcomes(file) == (.refused, .refused), "\(name)")
        }
    }

    @Test("a scan lists what opening the proposal shows, and refuses the same files")
    func scanAgreesWithOpening() throws {
        let directory = TemporaryDirectory()
        let queue = try makeQueue(in: directory, bottle: slug("b1"))
        var ids: [String: ProposalID] = [:]
        let written = Array("20261125-024903-3fa9c2d1e4b7".utf8)
        for (index, (name, file)) in Self.files.enumerated() {
            // Each file under an id of its own, its id field made to match where it has the written one.
            let id = try ProposalID(String(format: "20261125-024903-%012x", index))
            var bytes = file
            if let start = (0...max(0, bytes.count - written.count)).first(where: {
                bytes.count >= written.count && Array(bytes[$0..<$0 + written.count]) == written
            }) {
                bytes.replaceSubrange(start..<start + written.count, with: Array(id.rawValue.utf8))
            }
            try Data(bytes).write(to: URL(fileURLWithPath: QueueLayout.proposal(id, in: queue.directory).string))
            ids[name] = id
        }
        let scan = try queue.scan(archived: false)
        #expect(scan.entries.count + scan.unreadable.count == ids.count)
        for (name, id) in ids {
            let listed = scan.entries.first { $0.proposal.id == id }
            let opened = try? queue.entry(id)
            #expect((listed == nil) == (opened == nil), "\(name): listed \(listed != nil), opened \(opened != nil)")
            if let listed, let opened {
                #expect(listed.proposal == opened.proposal, "\(name)")
                #expect(listed.proposalSHA256 == opened.proposalSHA256, "\(name)")
                // One entry read alone, as the console does on a change: the same as the scan's.
                #expect(try queue.listedEntry(id) == listed, "\(name)")
            }
        }
        let listedIDs = Set(scan.entries.map(\.proposal.id))
        for name in [
            "as written", "escape sequences in the justification", "format 1.0", "a surrogate pair escape",
            "forty unknown members",
        ] {
            #expect(listedIDs.contains(ids[name]!), "\(name) should be listed")
        }
        for name in [
            "forty unknown members, one twice", "forty unknown members, then the justification again",
            "duplicate proposed file", "a justification over the limit", "a forged hash", "missing justification",
            "a byte order mark", "invalid UTF-8", "id that is a path", "bottle that is a path",
        ] {
            #expect(!listedIDs.contains(ids[name]!), "\(name) should be refused")
        }
    }

    @Test("SHA-256 in hex matches the standard's test vector")
    func digestHex() {
        #expect(SHA256Hex.of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Hex.of(Data("abc".utf8)) == SHA256Hex.of("abc"))
        #expect(SHA256Hex.isWellFormed(SHA256Hex.of("")))
        #expect(!SHA256Hex.isWellFormed(String(repeating: "A", count: 64)))
        #expect(!SHA256Hex.isWellFormed(String(repeating: "g", count: 64)))
    }
}
