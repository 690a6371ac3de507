import Testing

@testable import Queue

@Suite("Validation of the Dockerfile")
struct ValidationDockerfileTests {
    // --- Accepted files ----------------------------------------------------

    @Test(arguments: [
        "FROM debian:bookworm\n",
        "ARG BASE=debian:bookworm\nARG TAG\nFROM ${BASE}\nRUN apt-get update\n",
        "from alpine\nrun apk add git\nCmd [\"sh\"]\n",
        "# syntax=docker/dockerfile:1\n# a comment\nFROM alpine AS build\nFROM --platform=$BUILDPLATFORM alpine as final\n",
        "FROM alpine\nRUN apk add \\\n    # a comment inside the continuation\n\n    git \\\n    curl\n",
        "FROM alpine\nRUN <<EOF\nset -e\necho # not a comment\nEOF\n",
        "FROM alpine\nRUN <<-EOT\n\techo tabbed\n\tEOT\n",
        "FROM alpine\nCOPY <<\"ONE\" <<'TWO' /etc/\nfirst\nONE\nsecond\nTWO\n",
        "FROM alpine\nRUN --mount=type=cache,target=/root/.cache pip install x\n",
        "FROM alpine\nRUN [\"/bin/sh\", \"-c\", \"echo hi\"]\nENTRYPOINT [\"tini\", \"--\"]\nSHELL [\"/bin/bash\", \"-c\"]\n",
        "FROM alpine\nONBUILD RUN echo later\nHEALTHCHECK NONE\nEXPOSE 8080/tcp\nUSER agent:agent\nWORKDIR /work\n",
        "FROM alpine\nENV A=1 B=2\nLABEL org.example=x\nVOLUME /data\nSTOPSIGNAL SIGTERM\nMAINTAINER someone\nADD https://example.com/x /x\n",
        "\u{FEFF}FROM alpine\r\nRUN true\r\n",
        "FROM alpine\nRUN echo \"<<EOF\" 'a<<b' x<<y\n",
        "FROM alpine\nRUN [\"cat\", \"<<EOF\"]\n",
        "FROM alpine\nCMD <<EOF\n",
        "FROM alpine\nRUN echo tab\there\n",
    ])
    func wellFormedDockerfilesAreAccepted(_ content: String) {
        #expect(refusal(content, for: .capabilityBlock) == nil)
    }

    @Test func backtickEscapeDirectiveIsHonoured() throws {
        let document = try DockerfileDocument.parse(
            "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir C:\\ `\n    && echo done\nCOPY a\\ b\\ c:\\dest\\\n"
        )
        #expect(document.escapeCharacter == "`")
        #expect(document.directives == ["escape": "`"])
        #expect(document.instructions.map(\.keyword) == ["FROM", "RUN", "COPY"])
        #expect(document.instructions[1].arguments == "dir C:\\     && echo done")
        #expect(document.instructions[2].line == 5)
    }

    @Test func parsedInstructionsJoinContinuationsAndKeepLines() throws {
        let document = try DockerfileDocument.parse(
            """
            # syntax=docker/dockerfile:1.7
            ARG VERSION=3.12

            from python:${VERSION} AS base
            RUN apt-get update && \\
                # drop the lists afterwards
                apt-get install -y git
            COPY --chmod=0755 <<-EOF /usr/local/bin/hello
            \t#!/bin/sh
            \techo hello
            \tEOF
            USER agent
            """)
        #expect(document.directives == ["syntax": "docker/dockerfile:1.7"])
        #expect(document.escapeCharacter == "\\")
        #expect(document.instructions.map(\.keyword) == ["ARG", "FROM", "RUN", "COPY", "USER"])
        #expect(document.instructions.map(\.line) == [2, 4, 5, 8, 12])
        #expect(document.instructions[1].arguments == "python:${VERSION} AS base")
        #expect(document.instructions[2].arguments == "apt-get update &&     apt-get install -y git")
        #expect(
            document.instructions[3].heredocs == [
                DockerfileHeredoc(name: "EOF", stripsTabs: true, body: "\t#!/bin/sh\n\techo hello\n")
            ])
        #expect(document.instructions[3].arguments == "--chmod=0755 <<-EOF /usr/local/bin/hello")
    }

    @Test func directivesEndAtTheFirstOtherLine() throws {
        let document = try DockerfileDocument.parse(
            "# Syntax = docker/dockerfile:1\n\n# escape=`\nFROM alpine\nRUN a \\\n  b\n")
        #expect(document.directives == ["syntax": "docker/dockerfile:1"])
        #expect(document.escapeCharacter == "\\")
        #expect(document.instructions[1].arguments == "a   b")
    }

    @Test func unknownDirectiveEndsTheDirectives() throws {
        let document = try DockerfileDocument.parse("# foo=bar\n# escape=`\nFROM alpine\n")
        #expect(document.directives.isEmpty)
        #expect(document.escapeCharacter == "\\")
    }

    // --- Refused files, each problem at its line ----------------------------

    @Test(
        arguments: [
            ("FROM alpine\nRUNN make\n", 2, 1, "unknown instruction \"RUNN\""),
            ("FROM alpine\n  COPIE a b\n", 2, 3, "unknown instruction \"COPIE\""),
            (
                "RUN echo hi\nFROM alpine\n", 1, 1,
                "the first instruction must be FROM (only ARG may come before it); found RUN"
            ),
            (
                "ARG X\nENV A=1\nFROM alpine\n", 2, 1,
                "the first instruction must be FROM (only ARG may come before it); found ENV"
            ),
            ("FROM alpine\nRUN\n", 2, 1, "RUN needs arguments: RUN <command>"),
            ("FROM alpine\nworkdir   \n", 2, 1, "WORKDIR needs arguments: WORKDIR <path>"),
            ("FROM\n", 1, 1, "FROM needs arguments: FROM <image> [AS <name>]"),
            (
                "FROM alpine\nRUN make \\\n", 2, 10,
                "the line ends with the escape character, a backslash (\\), but the file ends there; remove it or add the line it continues"
            ),
            (
                "FROM alpine\nRUN make \\\n# only a comment follows\n\n", 2, 10,
                "the line ends with the escape character, a backslash (\\), but the file ends there; remove it or add the line it continues"
            ),
            (
                "FROM alpine\nRUN <<EOF\necho hi\n", 2, nil,
                "the heredoc <<EOF opened here is never closed; end it with a line holding only \"EOF\""
            ),
            (
                "FROM alpine\nRUN <<EOF\necho hi\nEOF \n", 2, nil,
                "the heredoc <<EOF opened here is never closed; end it with a line holding only \"EOF\""
            ),
            (
                "FROM alpine\nRUN <<EOF\necho hi\n\tEOF\n", 2, nil,
                "the heredoc <<EOF opened here is never closed; end it with a line holding only \"EOF\""
            ),
            (
                "FROM alpine AS\n", 1, 1,
                "FROM takes an image and an optional stage name: FROM <image> [AS <name>]"
            ),
            (
                "FROM alpine debian\n", 1, 1,
                "FROM takes an image and an optional stage name: FROM <image> [AS <name>]"
            ),
            ("FROM alpine\nONBUILD FROM debian\n", 2, 1, "ONBUILD cannot trigger FROM"),
            (
                "FROM alpine\nONBUILD FETCH x\n", 2, 1,
                "ONBUILD must be followed by an instruction; \"FETCH\" is not one"
            ),
            (
                "FROM alpine\nSHELL /bin/bash -c\n", 2, 1,
                "SHELL must be a JSON array of strings, as in SHELL [\"/bin/bash\", \"-c\"]"
            ),
            (
                "FROM alpine\nCMD ['sh', '-c', 'x']\n", 2, 1,
                "CMD starts with '[' but is not a JSON array of strings, so it would run as a shell command; write the exec form with double quotes, as in CMD [\"executable\", \"argument\"]"
            ),
            (
                "FROM alpine\nENTRYPOINT [\"tini\", 1]\n", 2, 1,
                "ENTRYPOINT starts with '[' but is not a JSON array of strings, so it would run as a shell command; write the exec form with double quotes, as in ENTRYPOINT [\"executable\", \"argument\"]"
            ),
            (
                "# syntax=evil.example/frontend:1\nFROM alpine\n", 1, nil,
                "the syntax directive may only name docker/dockerfile (as in # syntax=docker/dockerfile:1), not \"evil.example/frontend:1\""
            ),
            (
                "# syntax=docker/dockerfile-evil\nFROM alpine\n", 1, nil,
                "the syntax directive may only name docker/dockerfile"
            ),
            (
                "# escape=x\nFROM alpine\n", 1, nil,
                "the escape directive must be a backslash or a backtick, not \"x\""
            ),
            (
                "# syntax=docker/dockerfile:1\n# syntax=docker/dockerfile:1.7\nFROM alpine\n", 2, nil,
                "the parser directive \"syntax\" is given twice; keep one"
            ),
            (
                "FROM alpine\nRUN echo \u{0}\n", 2, 10,
                "U+0000 (an invisible or control character) is a control character; a Dockerfile is text (write it as an escape the command understands)"
            ),
            (
                "FROM alpine\nRUN printf '\u{1B}[31m'\n", 2, 13,
                "U+001B (an invisible or control character) is a control character; a Dockerfile is text (write it as an escape the command understands)"
            ),
            (
                "# just a comment\n", nil, nil,
                "the Dockerfile has no FROM instruction; it must start from an image, as in FROM debian:bookworm"
            ),
        ] as [(String, Int?, Int?, String)])
    func badDockerfileIsReportedWhereItIs(
        _ content: String, line: Int?, column: Int?, message: String
    ) {
        let found = problems(content, for: .capabilityBlock)
        #expect(found.count == 1)
        #expect(found.first?.message.hasPrefix(message) == true, "\(found)")
        #expect(found.first?.position == [line, column])
    }

    @Test func unknownInstructionListsTheKnownOnesAndHintsAtAMissingContinuation() {
        let found = problems("FROM alpine\nRUN apt-get install -y \n    git\n", for: .capabilityBlock)
        #expect(found.map(\.position) == [[3, 5]])
        #expect(
            found.first?.message
                == "unknown instruction \"git\"; the instructions are ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN SHELL STOPSIGNAL USER VOLUME WORKDIR (if this line continues the instruction before it, end line 2 with a backslash (\\))"
        )
    }

    @Test func lateEscapeDirectiveIsAPlainComment() {
        let found = problems("FROM windows\n# escape=`\nRUN dir `\n  c:\\temp\n", for: .capabilityBlock)
        #expect(found.map(\.position) == [[4, 3]])
        #expect(found.first?.message.hasPrefix("unknown instruction \"c:\\temp\"") == true)
    }

    @Test func everyProblemIsReportedInFileOrder() {
        let content = "RUN early\nFROM alpine\nFOO bar\nRUN\nRUN x\u{7}\nCOPY <<EOF /x\nbody\n"
        let error = refusal(content, for: .capabilityBlock)
        #expect(error?.problems.map(\.line) == [1, 3, 4, 5, 6])
        #expect(
            error?.description.hasPrefix(
                "capability-block: the proposed Dockerfile has 5 problems:\n  Dockerfile line 1, column 1: the first instruction must be FROM"
            ) == true)
    }

    @Test func heredocBodyIsNotParsedAsInstructions() throws {
        let document = try DockerfileDocument.parse(
            "FROM alpine\nRUN <<EOF\nNOT AN INSTRUCTION \\\n# not a comment\nEOF\nUSER x\n")
        #expect(document.instructions.map(\.keyword) == ["FROM", "RUN", "USER"])
        #expect(
            document.instructions[1].heredocs.first?.body == "NOT AN INSTRUCTION \\\n# not a comment\n")
    }

    @Test func heredocAfterAContinuationStartsAfterTheJoinedLine() throws {
        let document = try DockerfileDocument.parse(
            "FROM alpine\nRUN \\\n  <<EOF python3\nprint(1)\nEOF\n")
        #expect(document.instructions[1].heredocs.map(\.body) == ["print(1)\n"])
        #expect(document.instructions[1].arguments == "<<EOF python3")
    }

    @Test func aLoneEscapeAtTheEndIsOneProblemNotTwo() {
        let found = problems("FROM alpine\n  \\\n# trailing comment\n", for: .capabilityBlock)
        #expect(found.map(\.position) == [[2, 3]])
        #expect(found.first?.message.hasPrefix("the line ends with the escape character") == true)
    }

    @Test("the syntax directive names Docker's own frontend or nothing: a custom frontend would decide what is built")
    func syntaxFrontends() {
        for accepted in [
            "docker/dockerfile", "docker/dockerfile:1", "docker/dockerfile:1.7-labs", "docker.io/docker/dockerfile:1",
            "docker/dockerfile:1@sha256:ac85f380a63b13dfcefa89046420e1781752bab202122f8f50032edf31be0021",
        ] {
            #expect(DockerfileDocument.isStandardFrontend(accepted), "\(accepted)")
        }
        for refused in [
            "evil.example/docker/dockerfile:1", "docker/dockerfile-upstream:master", "docker/dockerfile/../x",
            "docker/dockerfiles", "ghcr.io/docker/dockerfile:1", "",
        ] {
            #expect(!DockerfileDocument.isStandardFrontend(refused), "\(refused)")
        }
    }
}
