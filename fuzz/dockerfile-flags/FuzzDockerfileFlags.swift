import Queue
import Risk

/// libFuzzer entry: the Dockerfile instruction flag reader
/// (`DockerfileInstruction.flagsAndOperands`) and the Dockerfile hints that
/// read shell text (`RUN`, `COPY`, `ADD`, `USER`).
///
/// The input is one instruction's arguments. Beyond "no crash, no hang":
/// a flag without a name is refused by the validator, the operands are a suffix of the arguments
/// (the reader never invents text); the whole file around it, and the
/// text as a heredoc script, get hints without a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDockerfileFlags(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let keywords = ["RUN", "COPY", "ADD", "USER"]
    let keyword = keywords[Int(data[0]) % keywords.count]
    let arguments = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    let instruction = DockerfileInstruction(keyword: keyword, arguments: arguments, line: 2)
    let (flags, operands) = instruction.flagsAndOperands
    // A flag without a name (`--=x`) is kept as one, and the validator refuses the line
    // (checked on the text as one line, which is what the Dockerfile reader hands over).
    let line = arguments.split(whereSeparator: \.isNewline).joined(separator: " ")
    let lineFlags = DockerfileInstruction(keyword: keyword, arguments: line, line: 2).flags
    if lineFlags.contains(where: { $0.name.isEmpty }), (try? DockerfileDocument.parse("FROM scratch\n\(keyword) \(line)\n")) != nil {
        fatalError("a flag without a name was accepted: \(Escaped(line))")
    }
    // (Arguments come trimmed from the Dockerfile reader: trailing blanks are not the reader's to keep.)
    var trimmed = Substring(arguments)
    while let last = trimmed.last, last == " " || last == "\t" { trimmed = trimmed.dropLast() }
    if !trimmed.hasSuffix(operands) { fatalError("operands \(Escaped(String(operands))) are not a suffix of \(Escaped(arguments))") }
    for flag in flags { _ = flag.fields }
    _ = instruction.operandWords
    // The same text as a line of a Dockerfile, through the validator and every Dockerfile rule.
    let oneLine = arguments.split(whereSeparator: \.isNewline).joined(separator: " ")
    let file = "FROM debian:bookworm-slim AS base\nWORKDIR /etc\n\(keyword) \(oneLine)\nUSER agent\n"
    _ = RiskHints.assess(tool: .capabilityBlock, proposed: file, current: nil)
    let heredoc = "FROM debian:bookworm-slim\nRUN <<EOF\n\(arguments)\nEOF\n"
    _ = RiskHints.assess(tool: .capabilityBlock, proposed: heredoc, current: nil)
    return 0
}
