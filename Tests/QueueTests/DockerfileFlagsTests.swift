import Testing

@testable import Queue

@Suite("Dockerfile instruction flags")
struct DockerfileFlagsTests {
    func instruction(_ arguments: String, _ keyword: String = "RUN") -> DockerfileInstruction {
        DockerfileInstruction(keyword: keyword, arguments: arguments, line: 1)
    }

    @Test("flags are read up to the first operand, values unquoted, names lower case")
    func flags() {
        let run = instruction(#"--network=host --MOUNT="type=secret,id=tok" --security=insecure echo --network=none"#)
        #expect(run.flags == [
            DockerfileFlag(name: "network", value: "host"), DockerfileFlag(name: "mount", value: "type=secret,id=tok"),
            DockerfileFlag(name: "security", value: "insecure"),
        ])
        #expect(run.operands == "echo --network=none")
        #expect(instruction(#"--network="ho"st true"#).flagValues("network") == ["host"])
        #expect(instruction(#"--network=h\ost true"#).flagValues("network") == ["host"])
        #expect(instruction("--link --from=build /a /b", "COPY").flags == [
            DockerfileFlag(name: "link", value: nil), DockerfileFlag(name: "from", value: "build"),
        ])
        #expect(instruction("-- --network=host").flags.isEmpty)
        #expect(instruction("-- --network=host").operands == "--network=host")
        #expect(instruction("echo hi").flags.isEmpty)
        #expect(instruction(#"--mount="type=bind, source=a b" ls"#).operands == "ls")
        // CR and CRLF are blanks too (fuzz finding: "--netw\r\nk" was read as one flag).
        #expect(instruction("--netw\r\nk --x").flags == [DockerfileFlag(name: "netw", value: nil)])
        #expect(instruction("--a\rb").flags == [DockerfileFlag(name: "a", value: nil)])
    }

    @Test("mount fields are split at commas, keys lower case")
    func fields() {
        let mount = DockerfileFlag(name: "mount", value: "Type=ssh,ID=default,required")
        #expect(mount.field("type") == "ssh")
        #expect(mount.field("id") == "default")
        #expect(mount.field("required") == "")
        #expect(mount.field("from") == nil)
    }

    @Test("exec form and operand words")
    func execForm() {
        #expect(instruction(#"["https://x.example/a", "/opt/"]"#, "ADD").execForm == ["https://x.example/a", "/opt/"])
        #expect(instruction(#"--chmod=755 ["a b", "/c"]"#, "COPY").operandWords == ["a b", "/c"])
        #expect(instruction(#"a "b c" '/d e'"#, "COPY").operandWords == ["a", "b c", "/d e"])
        #expect(instruction("[not json", "RUN").execForm == nil)
    }
}
