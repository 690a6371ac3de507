import Testing

@testable import Queue

@Suite("Validation errors")
struct ValidationErrorTests {
    @Test func oneProblemReadsAsOneLineWithToolFileAndPosition() {
        let error = ValidationError(
            tool: .credProxyBlock, ValidationProblem("duplicate key \"path\"", line: 3, column: 5))
        #expect(
            error.description == "cred-proxy-block: routes.json line 3, column 5: duplicate key \"path\"")
    }

    @Test func problemWithoutColumnOrLine() {
        #expect(
            ValidationError(tool: .capabilityBlock, ValidationProblem("RUN needs arguments", line: 4))
                .description
                == "capability-block: Dockerfile line 4: RUN needs arguments")
        #expect(
            ValidationError(tool: .pipelockBlock, ValidationProblem("the proposed allowlist is empty"))
                .description
                == "pipelock-block: the proposed allowlist is empty")
    }

    @Test func columnWithoutLineIsDropped() {
        let problem = ValidationProblem("whole file", line: nil, column: 7)
        #expect(problem.column == nil)
        #expect(problem.description == "whole file")
    }

    @Test func severalProblemsAreListedOnePerLine() {
        let error = ValidationError(
            tool: .pipelockBlock,
            problems: [
                ValidationProblem("'_' is not allowed", line: 2, column: 4),
                ValidationProblem("remove the trailing dot", line: 5, column: 12),
            ])
        #expect(
            error.description == """
                pipelock-block: the proposed allowlist has 2 problems:
                  allowlist line 2, column 4: '_' is not allowed
                  allowlist line 5, column 12: remove the trailing dot
                """)
    }

    @Test func problemsBeyondTheLimitAreCountedNotKept() {
        let many = (1...25).map { ValidationProblem("bad", line: $0, column: 1) }
        let error = ValidationError(tool: .pipelockBlock, problems: many)
        #expect(error.problems.count == ValidationError.problemLimit)
        #expect(error.omittedCount == 5)
        #expect(error.totalCount == 25)
        #expect(error.description.hasPrefix("pipelock-block: the proposed allowlist has 25 problems:"))
        #expect(error.description.hasSuffix("\n  ... and 5 more"))
        #expect(error.description.split(separator: "\n").count == 1 + 20 + 1)
    }

    @Test func problemListCountsWithoutBuildingMessagesOnceFull() {
        var list = ProblemList()
        var built = 0
        func message() -> String {
            built += 1
            return "bad"
        }
        for line in 1...1000 { list.add(message(), line: line) }
        #expect(built == ValidationError.problemLimit)
        #expect(list.omitted == 1000 - ValidationError.problemLimit)
    }

    @Test func quotedAgentTextIsEscapedAndShortened() {
        let hostile = "\u{1B}[2J" + String(repeating: "k", count: 500)
        let quoted = QuotedText(hostile).description
        #expect(!quoted.contains("\u{1B}"))
        #expect(quoted.hasPrefix("\"\\e[2J"))
        #expect(quoted.hasSuffix("...\""))
        #expect(quoted.count < 80)
    }

    @Test func charactersAreNamedSoInvisibleOnesShow() {
        #expect(CharacterName(scalar: "_").description == "'_'")
        #expect(
            CharacterName(scalar: "\u{0}").description == "U+0000 (an invisible or control character)")
        #expect(CharacterName(scalar: "\u{FEFF}").description == "U+FEFF (byte order mark)")
        #expect(CharacterName(scalar: "ü").description == "'ü' (U+00FC)")
        #expect(
            CharacterName(scalar: "\u{202E}").description == "U+202E (an invisible or control character)")
        #expect(CharacterName(scalar: " ").description == "a space")
    }
}
