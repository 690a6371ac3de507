import Foundation
import Logging
import Queue
import SystemPackage

@testable import Sidecar

/// A sidecar over a scratch queue and current-config directory.
final class TestSidecar: Sendable {
    let root: String
    let holder: CallHolder
    let dispatcher: Dispatcher

    init(currentFiles: [String: String] = [:], expireAfter: Duration? = nil, holdLimit: Duration? = nil) throws {
        root =
            FileManager.default.temporaryDirectory.appendingPathComponent("sidecar-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root + "/current", withIntermediateDirectories: true)
        for (name, text) in currentFiles {
            try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/current/" + name))
        }
        let configuration = SidecarConfiguration(
            bottle: try BottleSlug("web"), queueDirectory: FilePath(root + "/queue"),
            currentConfigDirectory: FilePath(root + "/current"), keepaliveInterval: .milliseconds(50),
            expireAfter: expireAfter, holdLimit: holdLimit)
        holder = try CallHolder(configuration: configuration, metrics: SidecarMetrics(), logger: Logger(label: "test"))
        dispatcher = Dispatcher(holder: holder)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// What the transport ends up doing with a message.
    enum Sent {
        case accepted
        case response([UInt8], session: String?)
        case held(HeldCall, Dispatcher.Context)
    }

    /// Dispatches raw JSON text as the HTTP transport would (with sessions),
    /// admitting a `tools/call`.
    /// `revision` is the session's negotiated revision, by name (one we speak).
    func send(_ json: String, session: String = "", revision: String? = nil) async -> Sent {
        let sessionRevision = revision.map { name in
            guard let known = ProtocolRevision(rawValue: name) else { preconditionFailure("not a revision: \(name)") }
            return known
        }
        switch RPCMessage.decode(Array(json.utf8)) {
        case .success(let message):
            switch dispatcher.handle(message, session: session, sessionRevision: sessionRevision, startsSessions: true) {
            case .accepted: return .accepted
            case .response(let bytes, let session): return .response(bytes, session: session)
            case .refused(let bytes, _): return .response(bytes, session: nil)
            case .toolCall(let call):
                switch await dispatcher.admit(call) {
                case .response(let bytes): return .response(bytes, session: nil)
                case .delivery(let bytes, let proposal):
                    // Written whole here: what a transport does once its write completed.
                    await holder.delivered(proposal)
                    return .response(bytes, session: nil)
                case .held(let held, let context): return .held(held, context)
                }
            }
        case .failure(let failure):
            return .response(RPCReply.error(id: failure.id, failure.error), session: nil)
        }
    }

    /// The response of a message answered at once, as a JSON object.
    func answer(_ json: String, revision: String? = nil) async throws -> [String: Any] {
        guard case .response(let bytes, _) = await send(json, revision: revision) else {
            throw TestFailure("expected an immediate response to \(json)")
        }
        return try Self.object(bytes)
    }

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw TestFailure("not a JSON object: \(String(decoding: bytes, as: UTF8.self))")
        }
        return object
    }
}

extension TestSidecar {
    /// A test connection's settings over this sidecar: 15 s keep-alives, a
    /// 60 s request timeout, four admissions at once, `hosts` allowed.
    func connectionSettings(hosts: HostAllowList) -> SidecarConnection<ManualClock>.Settings {
        .init(
            dispatcher: dispatcher, keepalive: .seconds(15), requestTimeout: .seconds(60),
            logger: Logger(label: "test"), admissions: AdmissionGate(limit: 4), hosts: hosts)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension [String: Any] {
    var errorCode: Int? { (self["error"] as? [String: Any])?["code"] as? Int }
    var errorMessage: String? { (self["error"] as? [String: Any])?["message"] as? String }
    var result: [String: Any]? { self["result"] as? [String: Any] }
}

/// A tools/call request for `tool` with the given proposed file.
func toolCall(
    id: Int = 7, tool: String, file: String, justification: String = "needed for the build", meta: String = ""
) -> String {
    let argument = Queue.Tool(rawValue: tool)?.fileArgument ?? "routes"
    let fileJSON = String(decoding: try! JSONEncoder().encode(file), as: UTF8.self)
    let metaPart = meta.isEmpty ? "" : #","_meta":\#(meta)"#
    return
        #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":{"\#(argument)":\#(fileJSON),"justification":"\#(justification)"}\#(metaPart)}}"#
}
