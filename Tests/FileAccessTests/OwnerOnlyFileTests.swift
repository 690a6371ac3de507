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
    @Test("a file with a second name (a hard link) is refused under either name, and read once the other name is gone")
    func refusesHardLink() throws {
        let directory = TemporaryDirectory()
        let file = directory.file("token", "s3cret")
        let other = directory.path.appending("other")
        #expect(link(file.string, other.string) == 0)
        for name in [file, other] {
            #expect(throws: FileAccessError.hardLinked(path: name.string, links: 2)) {
                try OwnerOnlyFile.read(name.string, maxBytes: 64)
            }
        }
        let message = FileAccessError.hardLinked(path: file.string, links: 2).description
        #expect(message.contains("has 2 names (hard links)") && message.contains("mv \(file.string).new \(file.string)"), "\(message)")
        #expect(unlink(other.string) == 0)
        #expect(try OwnerOnlyFile.read(file.string, maxBytes: 64) == Array("s3cret".utf8))
    }

    @Test(
        "a directory on the way that its group or others can write is refused, naming it and the chmod that fixes it",
        arguments: [0o770, 0o775, 0o757, 0o722, 0o2770])
    func refusesWritableDirectory(mode: Int) throws {
        let directory = TemporaryDirectory()
        let shared = directory.path.appending("shared")
        #expect(mkdir(shared.string, 0o700) == 0 && chmod(shared.string, mode_t(mode)) == 0)
        let inner = shared.appending("inner")
        #expect(mkdir(inner.string, 0o700) == 0)
        // The writable directory right above the file, and one level higher up.
        for file in [directory.file("shared/token", "s3cret"), directory.file("shared/inner/token", "s3cret")] {
            do {
                _ = try OwnerOnlyFile.read(file.string, maxBytes: 64)
                Issue.record("\(file) below a mode \(String(mode, radix: 8)) directory was read")
            } catch {
                #expect(
                    error == .untrustedDirectory(path: file.string, directory: shared.string, owner: UInt32(geteuid()),
                        mode: mode_t(mode)))
                #expect(error.description.contains("run: chmod go-w \(shared.string)"), "\(error)")
            }
        }
    }

    @Test("a sticky directory others can write (like /tmp) is accepted: nobody else can rename or remove the owner's names")
    func acceptsStickyDirectory() throws {
        let directory = TemporaryDirectory()
        let sticky = directory.path.appending("sticky")
        #expect(mkdir(sticky.string, 0o700) == 0 && chmod(sticky.string, 0o1777) == 0)
        let file = directory.file("sticky/token", "s3cret")
        #expect(try OwnerOnlyFile.read(file.string, maxBytes: 64) == Array("s3cret".utf8))
    }

    @Test("a symbolic link on the way is followed to its target's directories, and those are checked too")
    func checksLinkedDirectories() throws {
        let directory = TemporaryDirectory()
        // open/ (anyone may write) holds real/ (the owner's), reached through safe/via -> ../open/real.
        let open = directory.path.appending("open")
        #expect(mkdir(open.string, 0o700) == 0 && chmod(open.string, 0o777) == 0)
        let real = open.appending("real")
        #expect(mkdir(real.string, 0o700) == 0)
        let safe = directory.path.appending("safe")
        #expect(mkdir(safe.string, 0o700) == 0)
        #expect(symlink("../open/real", safe.appending("via").string) == 0)
        let file = directory.file("open/real/token", "s3cret")
        let viaLink = safe.appending("via").appending("token")
        #expect(throws: FileAccessError.untrustedDirectory(
            path: viaLink.string, directory: open.string, owner: UInt32(geteuid()), mode: 0o777)) {
            try OwnerOnlyFile.read(viaLink.string, maxBytes: 64)
        }
        // Once open/ is the owner's alone, the same path is read.
        #expect(chmod(open.string, 0o700) == 0)
        #expect(try OwnerOnlyFile.read(viaLink.string, maxBytes: 64) == Array("s3cret".utf8))
    }

    @Test("a directory on the way that belongs to another user is refused", .enabled(if: geteuid() == 0, "only root can give a directory away"))
    func refusesDirectoryOfAnotherUser() throws {
        let directory = TemporaryDirectory()
        let theirs = directory.path.appending("theirs")
        #expect(mkdir(theirs.string, 0o755) == 0 && chown(theirs.string, 12_345, 12_345) == 0)
        let file = directory.file("theirs/token", "s3cret")
        #expect(throws: FileAccessError.untrustedDirectory(path: file.string, directory: theirs.string, owner: 12_345, mode: 0o755)) {
            try OwnerOnlyFile.read(file.string, maxBytes: 64)
        }
        #expect(FileAccessError.untrustedDirectory(path: file.string, directory: theirs.string, owner: 12_345, mode: 0o755)
            .description.contains("belongs to uid 12345"))
    }

    @Test("a symbolic link on the way that lies in a directory others can write is refused there, whatever it points at")
    func refusesLinkInWritableDirectory() throws {
        let directory = TemporaryDirectory()
        let safe = directory.path.appending("safe")
        #expect(mkdir(safe.string, 0o700) == 0)
        let file = directory.file("safe/token", "s3cret")
        let open = directory.path.appending("open")
        #expect(mkdir(open.string, 0o700) == 0 && chmod(open.string, 0o777) == 0)
        #expect(symlink(safe.string, open.appending("via").string) == 0)
        let path = open.appending("via").appending("token").string
        #expect(throws: FileAccessError.untrustedDirectory(path: path, directory: open.string, owner: UInt32(geteuid()), mode: 0o777)) {
            try OwnerOnlyFile.read(path, maxBytes: 64)
        }
        #expect(try OwnerOnlyFile.read(file.string, maxBytes: 64) == Array("s3cret".utf8))
    }

    @Test(
        "a symbolic link another user left in a sticky directory is refused, though it points at the owner's own directory",
        .enabled(if: geteuid() == 0, "only root can give a link away"))
    func refusesLinkOfAnotherUserInStickyDirectory() throws {
        let directory = TemporaryDirectory()
        let safe = directory.path.appending("safe")
        #expect(mkdir(safe.string, 0o700) == 0)
        directory.file("safe/token", "s3cret")
        let sticky = directory.path.appending("sticky")
        #expect(mkdir(sticky.string, 0o700) == 0 && chmod(sticky.string, 0o1777) == 0)
        let link = sticky.appending("via")
        #expect(symlink(safe.string, link.string) == 0 && lchown(link.string, 12_345, 12_345) == 0)
        let path = link.appending("token").string
        do {
            _ = try OwnerOnlyFile.read(path, maxBytes: 64)
            Issue.record("a link of uid 12345 was followed")
        } catch {
            guard case .untrustedDirectory(path, link.string, 12_345, _) = error else {
                Issue.record("\(error)")
                return
            }
        }
    }

    @Test("`..` and `.` on the way are walked like any name, every directory reached is checked")
    func dotDotIsWalked() throws {
        let directory = TemporaryDirectory()
        directory.file("token", "s3cret")
        let inner = directory.path.appending("inner")
        #expect(mkdir(inner.string, 0o700) == 0)
        #expect(try OwnerOnlyFile.read(inner.string + "/./../token", maxBytes: 64) == Array("s3cret".utf8))
        // Refusals name the directory as the path spells it.
        #expect(chmod(directory.path.string, 0o777) == 0)
        defer { chmod(directory.path.string, 0o700) }
        let path = inner.string + "/../token"
        #expect(throws: FileAccessError.untrustedDirectory(
            path: path, directory: directory.path.string, owner: UInt32(geteuid()), mode: 0o777)) {
            try OwnerOnlyFile.read(path, maxBytes: 64)
        }
    }
}
