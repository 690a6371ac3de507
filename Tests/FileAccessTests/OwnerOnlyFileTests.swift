import Foundation
import SystemPackage
import Testing

@testable import FileAccess

/// The one reader of secret files (the access token, notification secrets,
/// the fleet's password file, the host's decision key): every refusal an
/// attacker who can write the secret's directory, or a careless `chmod`,
/// could provoke, each before a byte of the file is read.
@Suite("Owner-only secret files")
struct OwnerOnlyFileTests {
    @Test("a mode 0600 file of the user's own is read whole")
    func readsOwnFile() throws {
        let directory = TemporaryDirectory()
        let file = directory.file("token", "s3cret\n")
        #expect(try OwnerOnlyFile.read(file.string, maxBytes: 64) == Array("s3cret\n".utf8))
        #expect(try OwnerOnlyFile.read(directory.path.appending("absent").string, maxBytes: 64) == nil)
    }

    @Test("a symbolic link is refused, not followed, even to a good file")
    func refusesLink() throws {
        let directory = TemporaryDirectory()
        let target = directory.file("real", "s3cret")
        let link = directory.path.appending("link")
        #expect(symlink(target.string, link.string) == 0)
        #expect(throws: FileAccessError.symbolicLink(path: link.string, directory: false)) {
            try OwnerOnlyFile.read(link.string, maxBytes: 64)
        }
    }

    @Test("a FIFO is refused at once, without waiting for a writer")
    func refusesFIFOWithoutBlocking() throws {
        let directory = TemporaryDirectory()
        let fifo = directory.path.appending("fifo")
        #expect(mkfifo(fifo.string, 0o600) == 0)
        // Nobody ever opens the FIFO for writing: a blocking open would hang this test.
        #expect(throws: FileAccessError.notRegularFile(path: fifo.string, type: S_IFIFO)) {
            try OwnerOnlyFile.read(fifo.string, maxBytes: 64)
        }
        #expect(FileAccessError.notRegularFile(path: fifo.string, type: S_IFIFO).description.contains("a FIFO"))
    }

    @Test("a directory is refused")
    func refusesDirectory() throws {
        let directory = TemporaryDirectory()
        #expect(throws: FileAccessError.notRegularFile(path: directory.path.string, type: S_IFDIR)) {
            try OwnerOnlyFile.read(directory.path.string, maxBytes: 64)
        }
    }

    @Test(
        "group- or other-readable modes are refused with the chmod that fixes them",
        arguments: [0o644, 0o640, 0o604, 0o620])
    func refusesReadableByOthers(mode: Int) throws {
        let directory = TemporaryDirectory()
        let file = directory.file("token", "s3cret", mode: mode_t(mode))
        do {
            _ = try OwnerOnlyFile.read(file.string, maxBytes: 64)
            Issue.record("mode \(String(mode, radix: 8)) was read")
        } catch {
            #expect(error == .readableByOthers(path: file.string, mode: mode_t(mode)))
            #expect(error.description.contains("run: chmod 600 \(file.string)"), "\(error)")
        }
    }

    @Test("a file of another owner is refused", .enabled(if: geteuid() == 0, "only root can give a file away"))
    func refusesOtherOwner() throws {
        let directory = TemporaryDirectory()
        let file = directory.file("token", "s3cret")
        #expect(chown(file.string, 12_345, 12_345) == 0)
        #expect(throws: FileAccessError.foreignOwner(path: file.string, owner: 12_345, expected: 0)) {
            try OwnerOnlyFile.read(file.string, maxBytes: 64)
        }
        // The owner can be named: the same file read as its owner's is accepted.
        #expect(try OwnerOnlyFile.read(file.string, maxBytes: 64, owner: 12_345) == Array("s3cret".utf8))
    }

    @Test("a file over the limit is refused before it is read")
    func refusesTooLarge() throws {
        let directory = TemporaryDirectory()
        let file = directory.file("token", String(repeating: "x", count: 65))
        #expect(throws: FileAccessError.tooLarge(path: file.string, size: 65, limit: 64)) {
            try OwnerOnlyFile.read(file.string, maxBytes: 64)
        }
        #expect(try OwnerOnlyFile.read(file.string, maxBytes: 65)?.count == 65)
    }

    @Test("a sparse 1 GiB file is refused by its size, never read")
    func refusesHugeFile() throws {
        let directory = TemporaryDirectory()
        let file = directory.file("token", "")
        #expect(truncate(file.string, 1 << 30) == 0)
        #expect(throws: FileAccessError.tooLarge(path: file.string, size: 1 << 30, limit: 4096)) {
            try OwnerOnlyFile.read(file.string, maxBytes: 4096)
        }
    }
}
