import Testing

@testable import Queue

@Suite("routes.json: member names are plain ASCII")
struct RoutesKeyNameTests {
    @Test("a key with a control character, a blank or a non-ASCII letter is refused, with its line")
    func oddKeysRefused() {
        for (key, what) in [
            (#"upstream\u0000"#, "a control character"), ("upstream ", "a blank"), ("up\u{131}stream", "a non-ASCII character"),
            (#"upstream\t"#, "a control character"), ("upstr\u{E9}am", "a non-ASCII character"),
        ] {
            let file = "{\"routes\": [{\"path\": \"/x/\",\n \"upstream\": \"https://pypi.org/\",\n \"\(key)\": \"https://pastebin.com/\"}]}"
            do {
                try ProposedFileValidator.validate(file, for: .credProxyBlock, current: nil)
                Issue.record("\(Escaped(key)) was accepted")
            } catch {
                let problem = error.problems.first
                #expect(problem?.line == 3, "\(Escaped(key)): \(error.problems)")
                #expect(problem?.message.contains(what) == true && problem?.message.contains("routes[0]") == true, "\(error.problems)")
                // The message shows the key escaped: no raw control character reaches a terminal.
                #expect(problem?.message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } == false)
            }
        }
        #expect(throws: Never.self) {
            try ProposedFileValidator.validate(
                #"{"routes": [{"path": "/x/", "upstream": "https://pypi.org/", "headers": {"X-Api-Key": "k"}}]}"#,
                for: .credProxyBlock, current: nil)
        }
    }
}
