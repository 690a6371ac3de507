import Foundation
import Testing

@testable import FileAccess

/// The commands a refusal tells the operator to run ("run: chmod 600 PATH")
/// must name that one file when pasted into a shell, whatever the path holds.
@Suite("Paths in suggested commands")
struct ShellWordTests {
    @Test("a path of plain characters is written as it is")
    func plainPath() {
        #expect(ShellWord("/etc/bottle-supervise/web-token_1.2+x,y:z@h%").description
            == "/etc/bottle-supervise/web-token_1.2+x,y:z@h%")
    }

    @Test(
        "any other path is one single-quoted word, a quote inside written '\\''",
        arguments: [
            ("/srv/my secrets/token", "'/srv/my secrets/token'"),
            ("/srv/a;rm -rf ~/token", "'/srv/a;rm -rf ~/token'"),
            ("/srv/$(id)/`id`/*", "'/srv/$(id)/`id`/*'"),
            ("/srv/it's", #"'/srv/it'\''s'"#),
            ("", "''"),
            ("/srv/café", "'/srv/café'"),
            // A quote with a combining mark after it is one Character, but the shell still reads the quote.
            ("/srv/a'\u{301};echo INJECTED;#", "'/srv/a'\\''\u{301};echo INJECTED;#'"),
            ("/srv/\u{600}'x", "'/srv/\u{600}'\\''x'"),
            // A relative path that looks like an option is not taken for one.
            ("-rf", "./-rf"),
            ("-my token", "'./-my token'"),
        ])
    func quotedPath(path: String, word: String) {
        #expect(ShellWord(path).description == word)
    }

    @Test("a quoted word reads back, through a real shell, as the one path it quotes", arguments: [
        "/srv/a b/token", "/srv/it's", "/srv/a'\u{301};echo INJECTED;#", "/srv/$(echo x)`echo y`", "/srv/\u{600}'x",
    ])
    func throughAShell(path: String) throws {
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "printf '%s' " + ShellWord.quoted(path)]
        let output = Pipe()
        shell.standardOutput = output
        let exited = DispatchSemaphore(value: 0)
        shell.terminationHandler = { _ in exited.signal() }
        try shell.run()
        // The output is a few bytes, far below a pipe's buffer: the shell never waits on the reader.
        guard exited.wait(timeout: .now() + 10) == .success else {
            shell.terminate()
            Issue.record("/bin/sh did not exit within 10 s")
            return
        }
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        #expect(String(decoding: printed, as: UTF8.self) == path)
    }

    @Test("a control character is still shown as an escape, never written raw")
    func controlCharacters() {
        let word = ShellWord("/srv/a\u{1B}[2Jb\nc").description
        #expect(!word.unicodeScalars.contains { Escaped.mustEscape($0) })
        #expect(word.hasPrefix("'/srv/a") && word.hasSuffix("c'"))
    }

    @Test("the fixes refusals suggest quote the path: a pasted command names the refused file, not two")
    func refusalsQuote() {
        let path = "/srv/my secrets/token"
        #expect(FileAccessError.readableByOthers(path: path, mode: 0o644).description
            .hasSuffix("run: chmod 600 '/srv/my secrets/token'"))
        #expect(FileAccessError.hardLinked(path: path, links: 2).description.hasSuffix(
            "cp '/srv/my secrets/token' '/srv/my secrets/token.new' && mv '/srv/my secrets/token.new' '/srv/my secrets/token'"))
        #expect(FileAccessError.untrustedDirectory(path: path, directory: "/srv/my secrets", owner: 0, mode: 0o777)
            .description.hasSuffix("run: chmod go-w '/srv/my secrets'"))
    }
}
