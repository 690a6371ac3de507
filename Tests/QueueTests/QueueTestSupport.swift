import Foundation
import SystemPackage

@testable import Queue

/// A fresh temporary directory, removed when the test's scope ends.
final class TemporaryDirectory: Sendable {
    let path: FilePath

    init() {
        let base = FileManager.default.temporaryDirectory.path
        let template = "\(base)/queue-test-XXXXXX"
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = FilePath(String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path.string)
    }
}

func slug(_ text: String = "bottle-1") -> BottleSlug {
    try! BottleSlug(text)
}

func makeProposal(
    bottle: BottleSlug = slug(), tool: Tool = .pipelockBlock, file: String = "api.example.com\n",
    justification: String = "need the API", createdAt: Date = Date()
) -> Proposal {
    Proposal(
        bottle: bottle, tool: tool, proposedFile: file, justification: justification,
        currentFileSHA256: SHA256Hex.of("old\n"), createdAt: createdAt)
}

func makeQueue(in directory: TemporaryDirectory, bottle: BottleSlug = slug()) throws -> BottleQueue {
    let queue = BottleQueue(directory: directory.path.appending(bottle.rawValue), bottle: bottle)
    try queue.prepare()
    return queue
}

/// Writes raw bytes at `path`, bypassing the queue (to simulate other writers and damage).
func writeRaw(_ text: String, to path: FilePath) {
    // Plain open/write: FileManager.createFile leaves an empty directory in /tmp per call.
    let fd = open(path.string, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "cannot write \(path)")
    _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
    close(fd)
}
