import Foundation

/// A stand-in for the MCP SDK's `Value` with the same cases, so a baseline
/// revision's JSONReader.swift from before the sidecar dropped the SDK (and
/// read into Queue's `JSONValue`) compiles unchanged into this benchmark.
public enum Value: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case data(mimeType: String? = nil, Data)
    case array([Value])
    case object([String: Value])
}
