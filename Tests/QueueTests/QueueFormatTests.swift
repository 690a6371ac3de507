import Foundation
import Testing

@testable import Queue

@Suite("Queue format")
struct QueueFormatTests {
    @Test("a proposal survives encoding and decoding unchanged")
    func proposalRoundTrip() throws {
        let proposal = Proposal(
            bottle: slug(), tool: .credProxyBlock, proposedFile: "{\"routes\": []}\n",
            justification: "line one\nline two \u{1B}[31m", currentFileSHA256: nil,
            createdAt: Date(timeIntervalSince1970: 1_764_000_000.125),
            expiresAt: Date(timeIntervalSince1970: 1_764_003_600))
        let data = try QueueFormat.encode(proposal)
        let decoded = try QueueFormat.decode(Proposal.self, from: data, path: "p.json")
        #expect(decoded == proposal)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"proposed_file_sha256\" : \"\(SHA256Hex.of("{\"routes\": []}\n"))\""))
        #expect(text.contains("\"created_at\" : \"2025-11-24T16:00:00.125Z\""))
        #expect(text.contains("\"format\" : 1"))
    }

    @Test("a decision with an apply outcome survives encoding and decoding")
    func decisionRoundTrip() throws {
        let id = ProposalID.generate()
        let decision = Decision(
            id: id, status: .modified, notes: "narrowed it", finalFile: "a.example\n", decidedBy: "ops",
            decidedAt: Date(timeIntervalSince1970: 1_764_000_000),
            apply: ApplyOutcome(
                state: .failed, summary: "reload failed", command: ["kill", "-HUP", "1"], exitStatus: 1,
                outputTail: "no such process", previousSHA256: nil, newSHA256: SHA256Hex.of("a.example\n")))
        let decoded = try QueueFormat.decode(Decision.self, from: try QueueFormat.encode(decision), path: "d.json")
        #expect(decoded == decision)
    }

    @Test("a file of another format version is refused, naming the file")
    func unknownVersion() throws {
        let data = Data(#"{"format": 2, "id": "x"}"#.utf8)
        #expect(throws: QueueError.unsupportedFormat(path: "q/x.json", version: 2)) {
            try QueueFormat.decode(Decision.self, from: data, path: "q/x.json")
        }
    }

    @Test("a decision with an unknown status is malformed, never an approval")
    func unknownStatus() throws {
        let id = ProposalID.generate()
        let text =
            #"{"format":1,"id":"\#(id)","status":"approved!","notes":"","decided_by":"x","decided_at":"2026-11-25T00:00:00.000Z"}"#
        let error = #expect(throws: QueueError.self) {
            try QueueFormat.decode(Decision.self, from: Data(text.utf8), path: "d.json")
        }
        #expect(error?.description.contains("malformed queue file d.json: field status") == true)
    }

    @Test("a missing field is named in the error")
    func missingField() {
        let text = #"{"format":1,"status":"approved"}"#
        #expect(throws: QueueError.malformedFile(path: "d.json", reason: "missing field id")) {
            try QueueFormat.decode(Decision.self, from: Data(text.utf8), path: "d.json")
        }
    }

    @Test("truncated JSON is reported as not valid JSON")
    func truncated() throws {
        let full = try QueueFormat.encode(makeProposal())
        #expect(throws: QueueError.self) {
            try QueueFormat.decode(Proposal.self, from: full.prefix(full.count / 2), path: "p.json")
        }
    }

    @Test("only approved and modified are approvals")
    func approvals() {
        #expect(DecisionStatus.allCases.filter(\.isApproval) == [.approved, .modified])
    }

    @Test("an approval whose apply step is still running is not final")
    func finality() {
        let id = ProposalID.generate()
        #expect(
            !Decision(id: id, status: .approved, decidedBy: "ops", apply: ApplyOutcome(state: .pending, summary: ""))
                .isFinal)
        #expect(
            Decision(id: id, status: .approved, decidedBy: "ops", apply: ApplyOutcome(state: .applied, summary: ""))
                .isFinal)
        #expect(Decision(id: id, status: .rejected, decidedBy: "ops").isFinal)
        #expect(Decision(id: id, status: .approved, decidedBy: "ops").isFinal)
    }
}

@Suite("Timestamps")
struct TimestampTests {
    @Test("any date compares equal to itself after a round trip through a file")
    func roundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let date = Timestamp.normalized(
                Date(timeIntervalSince1970: Double.random(in: 0..<4_000_000_000, using: &generator)))
            let text = Timestamp.format(date)
            #expect(Timestamp.parse(text) == date, "\(text)")
        }
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_764_038_943.123)) == "2025-11-25T02:49:03.123Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.parse("2026-11-25T02:49:03Z") == Date(timeIntervalSince1970: 1_795_574_943))
        #expect(Timestamp.parse("yesterday") == nil)
    }
}
