import Queue

/// libFuzzer entry: the three validators the sidecar runs on an agent's
/// proposed file (routes.json, allowlist, Dockerfile).
///
/// The first byte picks the tool (low two bits) and whether the file is
/// compared with an identical "current" file (bit 2); the rest is the file.
/// Beyond "no crash, no hang": a refusal has at least one and at most
/// `problemLimit` problems, positions are 1-based, and no message carries a
/// character that must not reach a terminal raw (agent text is escaped).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzValidators(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let tools: [Tool] = [.credProxyBlock, .pipelockBlock, .capabilityBlock]
    let tool = tools[Int(data[0] & 3) % tools.count]
    let content = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    let current = data[0] & 4 != 0 ? content : nil
    do {
        try ProposedFileValidator.validate(content, for: tool, current: current)
        if current != nil { fatalError("a file identical to the current one was accepted") }
    } catch {
        guard !error.problems.isEmpty, error.problems.count <= ValidationError.problemLimit, error.tool == tool else {
            fatalError("a refusal with \(error.problems.count) problems for \(error.tool)")
        }
        for problem in error.problems {
            if let line = problem.line, line < 1 { fatalError("line \(line) in \(problem)") }
            if let column = problem.column, column < 1 { fatalError("column \(column) in \(problem)") }
            if Escaped.needsEscaping(problem.message) {
                fatalError("a raw control character in a message: \(Escaped(problem.message))")
            }
        }
    }
    return 0
}
