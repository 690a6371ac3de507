import Foundation
import Queue

/// libFuzzer entry: the queue-file decoder the host runs on every proposal
/// and decision file (attacker-controlled bytes: the sidecar writes them).
///
/// The first byte picks the record (even: proposal, odd: decision); the rest
/// is the file. Beyond "no crash, no hang": a record that decodes is written
/// and read back, and writing it again gives the same bytes (dates normalise
/// to milliseconds on the first write, then stay put); and a proposal file
/// gives the listing's fast path (`Proposal.listed`) exactly what it gives
/// the full decode, or is refused by both.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQueueFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let file = Data(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if data[0] & 1 == 0 {
        roundTrip(Proposal.self, file)
        listingAgrees(file)
    } else {
        roundTrip(Decision.self, file)
    }
    return 0
}

private func roundTrip<Record: Codable & Equatable>(_ type: Record.Type, _ file: Data) {
    let record: Record
    do {
        record = try QueueFormat.decode(type, from: file, path: "fuzz.json")
    } catch {
        if error.description.isEmpty { fatalError("an empty error") }
        return
    }
    do {
        let first = try QueueFormat.encode(record)
        let reread = try QueueFormat.decode(type, from: first, path: "fuzz.json")
        let second = try QueueFormat.encode(reread)
        guard first == second else {
            fatalError(
                "not stable: \(String(decoding: first, as: UTF8.self)) became \(String(decoding: second, as: UTF8.self))"
            )
        }
    } catch {
        fatalError("a decoded record did not survive writing and reading: \(error)")
    }
}

private func listingAgrees(_ file: Data) {
    let full = try? QueueFormat.decode(Proposal.self, from: file, path: "fuzz.json")
    let listed = try? Proposal.listed(from: file, path: { "fuzz.json" })
    guard full == listed else {
        fatalError("the listing and the full decode disagree: \(String(describing: listed)) vs \(String(describing: full))")
    }
}
