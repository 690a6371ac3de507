import Foundation
import SystemPackage
import Testing

@testable import FileAccess

/// What the file layer promises besides whole-or-nothing writes: exclusive
/// creation, the exact mode asked for, and names in a directory someone
/// else writes replaced or refused, never written or read through.
@Suite("File layer refusals and create semantics")
struct FileRefusalTests {
    @Test("an exclusive create does not touch an existing file")
    func createIsExclusive() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("decision.json", "first")
        #expect(try AtomicFile.create(Data("second".utf8), at: path) == false)
        #expect(try AtomicFile.read(path) == Data("first".utf8))
        let fresh = directory.path.appending("new.json")
        #expect(try AtomicFile.create(Data("made".utf8), at: fresh, mode: 0o600) == true)
        #expect(try AtomicFile.read(fresh) == Data("made".utf8))
    }

    /// Whether this process's umask cuts group or other write bits (022, 002, 077 do; the kernel
    /// says in /proc/self/status). Read, not set: the umask is every parallel test's.
    static let umaskMasksWrites: Bool = {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }),
            let mask = mode_t(line.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8)
        else { return false }
        return mask & 0o022 != 0
    }()

    @Test(
        "a file gets exactly the mode asked for, whatever the umask",
        .enabled(if: umaskMasksWrites, "the umask masks no write bits, so it cannot show a mode kept"))
    func modeIgnoresUmask() throws {
        let directory = TemporaryDirectory()
        let path = directory.path.appending("decision.json")
        // 0666: what a plain open under this umask would not give.
        try AtomicFile.write(Data("x".utf8), to: path, mode: 0o666)
        var info = stat()
        #expect(stat(path.string, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o666)
    }

    @Test("in an open directory, a create refuses a planted link and a write replaces it; neither writes through")
    func namedWritesNeverFollowLinks() throws {
        let directory = TemporaryDirectory()
        let outside = directory.file("outside", "untouched")
        let queue = directory.path.appending("queue")
        #expect(mkdir(queue.string, 0o755) == 0)
        #expect(symlink(outside.string, queue.appending("x.decision.json").string) == 0)
        let open = try #require(try DirectoryDescriptor.open(queue))
        #expect(try AtomicFile.create(Data("forged?".utf8), named: "x.decision.json", in: open) == false)
        #expect(try AtomicFile.read(outside) == Data("untouched".utf8))
        try AtomicFile.write(Data("host".utf8), named: "x.decision.json", in: open)
        #expect(try AtomicFile.read(outside) == Data("untouched".utf8))
        #expect(try open.read("x.decision.json", limit: 64) == Data("host".utf8))
    }

    @Test("a guarded read refuses a link, a FIFO (without blocking) and an oversize file")
    func guardedReadRefuses() throws {
        let directory = TemporaryDirectory()
        let real = directory.file("real", "content")
        let link = directory.path.appending("link")
        #expect(symlink(real.string, link.string) == 0)
        #expect(throws: FileAccessError.symbolicLink(path: link.string, directory: false)) {
            try AtomicFile.read(link, regularOnly: true)
        }
        let fifo = directory.path.appending("fifo")
        #expect(mkfifo(fifo.string, 0o600) == 0)
        #expect(throws: FileAccessError.notRegularFile(path: fifo.string, type: S_IFIFO)) {
            try AtomicFile.read(fifo, regularOnly: true)
        }
        #expect(throws: FileAccessError.tooLarge(path: real.string, size: nil, limit: 3)) {
            try AtomicFile.read(real, limit: 3, regularOnly: true)
        }
    }

    @Test("a directory descriptor refuses a symlinked directory and reads nothing through a link or a FIFO")
    func directoryDescriptorRefuses() throws {
        let directory = TemporaryDirectory()
        let real = directory.path.appending("real")
        #expect(mkdir(real.string, 0o755) == 0)
        let linked = directory.path.appending("linked")
        #expect(symlink(real.string, linked.string) == 0)
        #expect(throws: FileAccessError.symbolicLink(path: linked.string, directory: true)) {
            try DirectoryDescriptor.open(linked)
        }
        #expect(try DirectoryDescriptor.open(directory.path.appending("absent")) == nil)
        let open = try #require(try DirectoryDescriptor.open(real))
        #expect(mkfifo(real.appending("fifo").string, 0o600) == 0)
        #expect(symlink("/etc/passwd", real.appending("passwd").string) == 0)
        #expect(throws: FileAccessError.notRegularFile(path: real.appending("fifo").string, type: S_IFIFO)) {
            try open.read("fifo", limit: 64)
        }
        #expect(throws: FileAccessError.symbolicLink(path: real.appending("passwd").string, directory: false)) {
            try open.read("passwd", limit: 64)
        }
        #expect(Set(try open.names()) == ["fifo", "passwd"])
    }

    @Test("an errno reads as the operation, the path and the system's words")
    func ioDescription() {
        #expect(FileAccessError.io(operation: "open", path: "/x", errno: ENOENT).description
            == "open /x: No such file or directory")
    }
}
