// For a baseline that read into the MCP SDK's Value (the stand-in module); the current reader reads JSONValue.
import MCP

/// What the benchmark calls: the reader's result reduced to a number, so the
/// optimiser cannot drop the work.
public func readBody(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    guard case .object(let members)? = try? JSONReader.value(of: bytes) else { return -1 }
    return members.count
}
