import Foundation
import Queue

@testable import Apply

/// A container engine in memory, for ``ContainerReplacement``'s unit tests:
/// it keeps containers (id, name, image, running), answers `inspect`,
/// `image inspect`, `build`, `create`, `network connect`, `stop`, `rename`,
/// `start`, `rm` and `logs` as podman does, records every argument vector,
/// and fails the commands a test scripts to fail.
final class FakeEngine: EngineCommandRunner, @unchecked Sendable {
    struct Container: Equatable {
        var id: String
        var name: String
        var image: String
        var running: Bool
        var status: String
        var exitCode: Int64 = 0
        /// The `create` arguments it was made with (empty for the original).
        var createdWith: [String] = []
    }

    /// A scripted failure: the command's exit status and output.
    struct Failure {
        var status: Int32
        var output: String
    }

    private let lock = NSLock()
    private var containers: [Container] = []
    private var images: [String: String] = [:]  // tag -> image id
    private var calls: [[String]] = []
    private var counter = 0
    /// Decides, per argument vector (without the program), whether it fails.
    var failing: @Sendable ([String]) -> Failure? = { _ in nil }
    /// What a started new container does: stays up, or exits at once with this code.
    var newContainersExit: Int64?
    /// A started new container is seen running this many times by `inspect`, then has crashed (exit 1).
    var newContainersCrashAfterInspects: Int?
    private var newInspects = 0
    /// Runs after a successful `build`, outside the engine's lock (the operator acting meanwhile).
    var afterBuild: (@Sendable (FakeEngine) -> Void)?
    /// After this command succeeds, every later command fails (the engine, or the host, died).
    var dieAfter: (@Sendable ([String]) -> Bool)?
    private var dead = false

    /// The old container, as `InspectFixtures.podmanContainer` describes it.
    static let oldID = "f4767f0d1d60309f7285b884513fe77e88bc158db00566f63ff8870f7df7958f"
    static let oldImageID = "60a9a5ed87b9dcf04b8cae01fcc3214a28250ae0f2c617cd5212fb346c182c91"

    init(running: Bool = true) {
        containers = [
            Container(
                id: Self.oldID, name: "bot1", image: Self.oldImageID, running: running,
                status: running ? "running" : "exited")
        ]
    }

    var recorded: [[String]] { lock.withLock { calls } }

    /// What `/proc/<pid>/status` says about the old container's process
    /// (the fixture's pid 12766): uid and gid 1000, groups 1000 and 27.
    var oldProcessStatus: String? = "Name:\tbusybox\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nGroups:\t1000 27\n"

    /// The old process's `uid_map`/`gid_map` (nil: the host's namespace).
    var oldIDMap: String?

    func processFile(pid: Int64, _ name: String) -> String? {
        guard pid == 12766 else { return nil }
        return lock.withLock { name == "status" ? oldProcessStatus : oldIDMap }
    }
    fileprivate func setContainers(_ list: [Container]) { lock.withLock { containers = list } }
    var all: [Container] { lock.withLock { containers } }
    func container(named name: String) -> Container? { all.first { $0.name == name } }

    /// The recorded commands' verbs (`inspect`, `build`, `rename`…), for checking the order.
    var verbs: [String] {
        recorded.map { argv in
            argv.count > 2 && ["image", "network"].contains(argv[1]) ? argv[1] + " " + argv[2] : argv[1]
        }
    }

    func run(_ argv: [String], timeout: Duration, keepOutput: Bool) -> ReloadRun {
        let result = answerRecorded(argv, keepOutput: keepOutput)
        if argv.dropFirst().first == "build", result.exitStatus == 0, let afterBuild { afterBuild(self) }
        return result
    }

    private func answerRecorded(_ argv: [String], keepOutput: Bool) -> ReloadRun {
        lock.withLock {
            calls.append(argv)
            let arguments = Array(argv.dropFirst())
            var result = ReloadRun(
                command: argv, exitStatus: 0, signal: nil, timedOut: false, startFailure: nil, outputTail: "",
                duration: .milliseconds(1))
            if dead {
                result.exitStatus = 125
                result.outputTail = "Error: cannot connect to the engine"
                return result
            }
            if let failure = failing(arguments) {
                result.exitStatus = failure.status
                result.outputTail = failure.output
                return result
            }
            let (status, output, tail) = answer(arguments)
            result.exitStatus = status
            if keepOutput { result.standardOutput = output } else { result.outputTail = output }
            if !tail.isEmpty { result.outputTail = tail }
            if status == 0, dieAfter?(arguments) == true { dead = true }
            return result
        }
    }

    private func index(of reference: String) -> Int? {
        containers.firstIndex {
            $0.id == reference || $0.name == reference || $0.id.hasPrefix(reference) && reference.count >= 12
        }
    }

    /// (status, standard output, extra output tail)
    private func answer(_ arguments: [String]) -> (Int32, String, String) {
        let noSuch = { (reference: String) in (Int32(125), "", "Error: no such container \(reference)") }
        switch arguments.first {
        case "inspect":
            let reference = arguments.last!
            guard let at = index(of: reference) else { return noSuch(reference) }
            let container = containers[at]
            if container.id == Self.oldID { return (0, inspectOld(container), "") }
            if container.running, let limit = newContainersCrashAfterInspects {
                newInspects += 1
                if newInspects > limit {
                    containers[at].running = false
                    containers[at].status = "exited"
                    containers[at].exitCode = 1
                }
            }
            return (0, inspectNew(containers[at]), "")
        case "image":
            return (0, InspectFixtures.podmanImage, "")
        case "build":
            let tag = arguments[arguments.firstIndex(of: "-t")! + 1]
            counter += 1
            let imageID = String(repeating: "b", count: 60) + String(format: "%04d", counter)
            images[tag] = imageID
            if let at = arguments.firstIndex(of: "--iidfile"), at + 1 < arguments.count {
                try? Data("sha256:\(imageID)".utf8).write(to: URL(fileURLWithPath: arguments[at + 1]))
            }
            return (0, "STEP 1/2: FROM scratch\nCOMMIT \(tag)\n", "")
        case "create":
            let name = arguments.first { $0.hasPrefix("--name=") }.map { String($0.dropFirst(7)) } ?? ""
            if containers.contains(where: { $0.name == name }) { return (125, "", "Error: name \(name) is in use") }
            counter += 1
            let id = String(repeating: "c", count: 60) + String(format: "%04d", counter)
            let built = Set(images.values)
            let image = arguments.first { images[$0] != nil }.flatMap { images[$0] } ?? arguments.first(where: built.contains) ?? "unknown"
            containers.append(
                Container(id: id, name: name, image: image, running: false, status: "created", createdWith: arguments))
            return (0, id + "\n", "")
        case "network":
            guard index(of: arguments.last!) != nil else { return noSuch(arguments.last!) }
            return (0, "", "")
        case "stop":
            guard let at = index(of: arguments.last!) else { return noSuch(arguments.last!) }
            containers[at].running = false
            containers[at].status = "exited"
            containers[at].exitCode = 137
            return (0, arguments.last! + "\n", "")
        case "rename":
            guard let at = index(of: arguments[1]) else { return noSuch(arguments[1]) }
            if containers.contains(where: { $0.name == arguments[2] }) {
                return (125, "", "Error: name \(arguments[2]) is in use")
            }
            containers[at].name = arguments[2]
            return (0, "", "")
        case "start":
            guard let at = index(of: arguments.last!) else { return noSuch(arguments.last!) }
            if containers[at].id != Self.oldID, let code = newContainersExit {
                containers[at].status = "exited"
                containers[at].exitCode = code
            } else {
                containers[at].running = true
                containers[at].status = "running"
            }
            return (0, arguments.last! + "\n", "")
        case "rm":
            guard let at = index(of: arguments.last!) else { return noSuch(arguments.last!) }
            if containers[at].running, !arguments.contains("-f") {
                return (2, "", "Error: cannot remove container \(arguments.last!) as it is running")
            }
            containers.remove(at: at)
            return (0, arguments.last! + "\n", "")
        case "logs":
            return (0, "starting\nsh: /missing-entrypoint: not found\n", "")
        default:
            return (125, "", "Error: unknown command \(arguments.first ?? "")")
        }
    }

    /// The fixture with this container's name and state.
    private func inspectOld(_ container: Container) -> String {
        InspectFixtures.podmanContainer
            .replacingOccurrences(of: #""Name": "bot1""#, with: #""Name": "\#(container.name)""#)
            .replacingOccurrences(of: #""Status": "running""#, with: #""Status": "\#(container.status)""#)
            .replacingOccurrences(of: #""Running": true"#, with: #""Running": \#(container.running)"#)
    }

    private func inspectNew(_ container: Container) -> String {
        """
        [{"Id": "\(container.id)", "Name": "\(container.name)", "Image": "\(container.image)", "RestartCount": 0,
          "State": {"Status": "\(container.status)", "Running": \(container.running), "Restarting": false,
                    "ExitCode": \(container.exitCode), "Error": ""}}]
        """
    }
}

extension FakeEngine {
    /// Puts `list` in place of the engine's containers.
    func replaceContainers(with list: [Container]) {
        setContainers(list)
    }
}
