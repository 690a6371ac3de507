import Foundation

/// A stand-in for the MCP SDK's `Value` with the same cases, so the
/// sidecar's JSONReader.swift compiles unchanged into this benchmark without
/// building the SDK and its dependencies in release mode.
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
