import Testing

@testable import Queue

@Suite("Validation of proposed files: size, emptiness, no-op, hostile input")
struct ValidationProposedFileTests {
    static let valid: [Tool: String] = [
        .credProxyBlock: "{\"routes\": [{\"path\": \"/v1/\"}]}\n",
        .pipelockBlock: "api.example.com\n",
        .capabilityBlock: "FROM alpine\nRUN apk add git\n",
    ]

    // --- Empty files ---------------------------------------------------------

    @Test(arguments: Tool.allCases)
    func emptyAndBlankFilesAreRefused(_ tool: Tool) {
        for content in ["", "   ", "\n\n\t\r\n", "\u{A0}\u{2003}\n"] {
            let error = refusal(content, for: tool)
            #expect(
                error?.description
                    == "\(tool.rawValue): the proposed \(tool.configFile.fileName) is empty; send the whole file as it should be, not a diff or a description"
            )
        }
    }

    // --- No-op proposals -------------------------------------------------------

    @Test(arguments: Tool.allCases)
    func aProposalIdenticalToTheCurrentFileIsANoOp(_ tool: Tool) throws {
        let content = try #require(Self.valid[tool])
        let error = refusal(content, for: tool, current: content)
        #expect(error?.problems.count == 1)
        #expect(
            error?.description
                == "\(tool.rawValue): the proposed \(tool.configFile.fileName) is identical to the current file; nothing to change (edit the current file and send the whole changed file)"
        )
    }

    @Test(arguments: Tool.allCases)
    func anyByteOfDifferenceIsAChange(_ tool: Tool) throws {
        let content = try #require(Self.valid[tool])
        #expect(refusal(content, for: tool, current: nil) == nil)
        #expect(refusal(content, for: tool, current: String(content.dropLast())) == nil)
        #expect(refusal(content, for: tool, current: content + "\n") == nil)
        #expect(
            refusal(content, for: tool, current: content.replacingOccurrences(of: "\n", with: "\r\n"))
                == nil)
    }

    @Test func canonicallyEquivalentTextIsStillAChange() {
        // Swift's == would call these equal; the file on disk differs.
        let composed = "# caf\u{E9}\napi.example.com\n"
        let decomposed = "# cafe\u{301}\napi.example.com\n"
        #expect(composed == decomposed)
        #expect(refusal(composed, for: .pipelockBlock, current: decomposed) == nil)
    }

    @Test func anInvalidProposalIdenticalToAnInvalidCurrentFileIsReportedAsNoOp() {
        let broken = "{\"routes\": [}"
        #expect(
            refusal(broken, for: .credProxyBlock, current: broken)?.problems.first?.message.contains(
                "identical") == true)
    }

    // --- The size cap ------------------------------------------------------------

    static func dockerfile(ofSize size: Int) -> String {
        let head = "FROM alpine\n# "
        return head + String(repeating: "x", count: size - head.utf8.count)
    }

    @Test func aFileOfExactlyTheLimitIsAccepted() {
        let content = Self.dockerfile(ofSize: ProposedFileValidator.maximumSize)
        #expect(content.utf8.count == 1_048_576)
        #expect(refusal(content, for: .capabilityBlock) == nil)
    }

    @Test func oneByteOverTheLimitIsRefusedWithSizeAndLimit() {
        let content = Self.dockerfile(ofSize: ProposedFileValidator.maximumSize + 1)
        let error = refusal(content, for: .capabilityBlock)
        #expect(
            error?.description
                == "capability-block: the proposed Dockerfile is 1048577 bytes of UTF-8; the limit is 1048576 bytes (1 MiB)"
        )
    }

    @Test func theLimitCountsUTF8BytesNotCharacters() {
        // 600,000 'é' are 600,000 characters but 1,200,000 bytes.
        let content = "api.example.com\n# " + String(repeating: "é", count: 600_000)
        #expect(
            refusal(content, for: .pipelockBlock)?.problems.first?.message.contains(
                "bytes of UTF-8; the limit is 1048576") == true)
    }

    @Test func theSizeCapComesBeforeTheNoOpCheck() {
        let content = Self.dockerfile(ofSize: ProposedFileValidator.maximumSize + 10)
        #expect(
            refusal(content, for: .capabilityBlock, current: content)?.problems.first?.message.contains(
                "the limit is") == true)
    }

    @Test(arguments: Tool.allCases)
    func theWrongToolsFileIsRefusedWithAPosition(_ tool: Tool) throws {
        for (other, content) in Self.valid where other != tool {
            let error = try #require(refusal(content, for: tool))
            #expect(error.tool == tool)
            #expect(
                error.problems.first?.line != nil || error.problems.first?.message.contains("FROM") == true)
        }
    }

    // --- Hostile input -----------------------------------------------------------

    @Test(arguments: Tool.allCases)
    func nulAndControlBytesAreRefusedNotCrashedOn(_ tool: Tool) {
        for content in [
            String(repeating: "\u{0}", count: 1000),
            "\u{0}" + (Self.valid[tool] ?? ""),
            (Self.valid[tool] ?? "") + "\u{1B}[2J\u{1B}]0;title\u{7}",
            "\u{8}\u{7F}\u{9B}\u{202E}",
        ] {
            let error = refusal(content, for: tool)
            #expect(error != nil)
            let text = error?.description ?? ""
            #expect(
                !Escaped.needsEscaping(text, keepLayout: true),
                "message carries raw control characters: \(Escaped(text))")
        }
    }

    @Test func hostileMessagesNeverCarryRawControlCharacters() {
        let inputs: [(String, Tool)] = [
            ("{\"\\u001b[2J\": 1, \"\\u001b[2J\": 2, \"routes\": []}", .credProxyBlock),
            ("exa\u{1B}mple.com", .pipelockBlock),
            ("FROM alpine\n\u{1B}[31mRUN x\n", .capabilityBlock),
            ("FROM alpine\nRUN <<\u{202E}EOF\n", .capabilityBlock),
            ("# escape=\u{1B}\nFROM alpine\n", .capabilityBlock),
        ]
        for (content, tool) in inputs {
            let text = refusal(content, for: tool)?.description ?? ""
            #expect(!text.isEmpty)
            #expect(!Escaped.needsEscaping(text, keepLayout: true), "\(Escaped(text))")
        }
    }

    // --- A mebibyte of input, linear time ------------------------------------------

    /// Everything here would take minutes if any step were quadratic in the
    /// input; the bound only catches that, it is not a benchmark.
    static let generous = Duration.seconds(60)

    static func filling(_ unit: String, prefix: String = "", suffix: String = "") -> String {
        let room = ProposedFileValidator.maximumSize - prefix.utf8.count - suffix.utf8.count
        return prefix + String(repeating: unit, count: room / unit.utf8.count) + suffix
    }

    static var mebibyteInputs: [(name: String, tool: Tool, content: String, accepted: Bool)] {
        var routes = "{\"routes\": [\n"
        var index = 0
        while routes.utf8.count < ProposedFileValidator.maximumSize - 100 {
            routes += "{\"path\": \"/r\(index)\", \"upstream\": \"https://up.example\"},\n"
            index += 1
        }
        routes += "{\"path\": \"/last\"}]}"
        var hosts = ""
        index = 0
        while hosts.utf8.count < ProposedFileValidator.maximumSize - 100 {
            hosts += "host-\(index).example.com\n"
            index += 1
        }
        return [
            ("distinct routes", .credProxyBlock, routes, true),
            (
                "identical routes", .credProxyBlock,
                filling("{\"a\": 1},", prefix: "{\"routes\": [", suffix: "{}]}"), false
            ),
            (
                "one line of duplicate keys", .credProxyBlock,
                filling("\"k\": 1, ", prefix: "{", suffix: "\"routes\": []}"), false
            ),
            (
                "one huge string", .credProxyBlock,
                filling("x", prefix: "{\"routes\": [{\"s\": \"", suffix: "\"}]}"), true
            ),
            (
                "escapes", .credProxyBlock,
                filling("\\u00e9", prefix: "{\"routes\": [{\"s\": \"", suffix: "\"}]}"), true
            ),
            ("a mebibyte of quotes", .credProxyBlock, filling("\""), false),
            ("a mebibyte of NUL", .credProxyBlock, filling("\u{0}"), false),
            ("distinct hosts", .pipelockBlock, hosts, true),
            ("duplicate hosts", .pipelockBlock, filling("Example.com\n"), false),
            ("one huge label", .pipelockBlock, filling("a"), false),
            ("one huge line of hosts", .pipelockBlock, filling("a.b ", suffix: "c"), false),
            ("only comments", .pipelockBlock, filling("# comment\n"), true),
            ("a mebibyte of NUL", .pipelockBlock, filling("\u{0}"), false),
            (
                "many instructions", .capabilityBlock, filling("RUN echo hello\n", prefix: "FROM alpine\n"),
                true
            ),
            (
                "one long continuation", .capabilityBlock,
                filling("  a \\\n", prefix: "FROM alpine\nRUN \\\n", suffix: "b"), true
            ),
            (
                "one huge heredoc", .capabilityBlock,
                filling("echo x\n", prefix: "FROM alpine\nRUN <<EOF\n", suffix: "EOF\n"), true
            ),
            (
                "many heredoc markers", .capabilityBlock,
                filling("<<A ", prefix: "FROM alpine\nCOPY ", suffix: "/x\n"), false
            ),
            (
                "unknown instructions", .capabilityBlock, filling("FOO bar\n", prefix: "FROM alpine\n"),
                false
            ),
            ("a mebibyte of backslashes", .capabilityBlock, filling("\\"), false),
            ("a mebibyte of NUL", .capabilityBlock, filling("\u{0}"), false),
        ]
    }

    @Test func aMebibyteOfAnythingIsValidatedInLinearTime() {
        for input in Self.mebibyteInputs {
            #expect(input.content.utf8.count <= ProposedFileValidator.maximumSize, "\(input.name)")
            let clock = ContinuousClock()
            var error: ValidationError?
            let elapsed = clock.measure {
                error = refusal(input.content, for: input.tool)
            }
            #expect(
                (error == nil) == input.accepted,
                "\(input.tool) \(input.name): \(error.map { String($0.description.prefix(300)) } ?? "accepted")"
            )
            #expect((error?.problems.count ?? 0) <= ValidationError.problemLimit)
            #expect(elapsed < Self.generous, "\(input.tool) \(input.name) took \(elapsed)")
        }
    }
}
