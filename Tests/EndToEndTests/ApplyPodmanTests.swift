import Apply
import FileAccess
import Foundation
import Queue
import SystemPackage
import Testing

/// A real container restarted as a reload action. Runs only where podman is
/// installed, we are root (the machines' podman set-up is root-only) and
/// busybox-static provides a static binary to build an image `FROM scratch`
/// (images can't be pulled); elsewhere it is skipped, with this reason.
@Suite(
    .enabled(
        if: PodmanHost.isUsable,
        "needs podman on PATH, root, and /bin/busybox from busybox-static (apt-get install -y podman runc busybox-static)"
    ),
    .serialized)
struct ApplyPodmanTests {
    @Test func anApprovedAllowlistRestartsTheContainer() async throws {
        let podman = try PodmanHost()
        defer { podman.tearDown() }
        let slug = "bs-apply-\(UUID().uuidString.prefix(6).lowercased())"
        let bottle = try BottleSlug(slug)
        let configRoot = FilePath(podman.root + "/bottles")
        let queueRoot = FilePath(podman.root + "/queue")
        try AtomicFile.makeDirectory(configRoot.appending(slug))
        try AtomicFile.write(Data("api.one.example\n".utf8), to: configRoot.appending(slug).appending("allowlist"))
        // Restarting the container stands in for restarting pipelock; -t 0 because busybox sleep ignores SIGTERM as PID 1.
        let restart =
            (["env", "CONTAINERS_CONF=\(podman.containersConf)", "podman"] + podman.globalFlags + [
                "restart", "-t", "0", "{slug}",
            ])
            .map { "\"\($0)\"" }.joined(separator: ", ")
        try AtomicFile.write(
            Data("[reload.allowlist]\ncommand = [\(restart)]\ntimeout = 60\n".utf8),
            to: configRoot.appending(slug).appending("supervise.toml"))
        try podman.podman(["run", "-d", "--name", slug, "--network", "none", PodmanHost.image])
        defer { _ = try? podman.podman(["rm", "-f", "-t", "0", slug]) }
        let before = try podman.pid(of: slug)

        let queue = QueueRoot(queueRoot).queue(for: bottle)
        try queue.prepare()
        let proposal = Proposal(
            bottle: bottle, tool: .pipelockBlock, proposedFile: "api.one.example\napi.two.example\n",
            justification: "need api.two", currentFileSHA256: SHA256Hex.of("api.one.example\n"))
        _ = try await queue.submit(proposal)
        let applier = Applier(
            configRoot: configRoot, queueRoot: queueRoot, engine: ContainerEngine("podman"), operatorName: "alice")
        let clock = ContinuousClock()
        let start = clock.now
        let decision = try await applier.apply(
            decision: Decision(id: proposal.id, status: .approved, decidedBy: "alice", proposalSHA256: reviewedSHA256(proposal)), proposal: proposal, queue: queue
        )
        print("apply with podman restart took \(clock.now - start)")
        #expect(
            decision.apply?.state == .applied, "\(decision.apply?.summary ?? "") \(decision.apply?.outputTail ?? "")")
        let after = try podman.pid(of: slug)
        #expect(after != before)
        #expect(
            try podman.podman(["inspect", "--format", "{{.State.Running}}", slug]).trimmingCharacters(
                in: .whitespacesAndNewlines) == "true")
    }
}

/// Root podman in an isolated storage directory, with an image built from busybox-static.
final class PodmanHost: Sendable {
    static let image = "localhost/bottle-supervise-test-busybox:latest"
    let root: String
    let containersConf: String
    var globalFlags: [String] {
        [
            "--root", root + "/storage", "--runroot", root + "/run", "--storage-driver", "vfs", "--runtime", "runc",
            "--cgroup-manager", "cgroupfs",
        ]
    }

    static var isUsable: Bool {
        geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/bin/busybox")
            && ((try? ApplyFixtures.run(["sh", "-c", "command -v podman"]).status) == 0)
    }

    init() throws {
        root = "/tmp/bs-podman-\(UUID().uuidString.prefix(8))"
        containersConf = root + "/containers.conf"
        try FileManager.default.createDirectory(atPath: root + "/image", withIntermediateDirectories: true)
        try "[containers]\ndefault_ulimits = []\n".write(toFile: containersConf, atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: root + "/image/busybox")
        try "FROM scratch\nCOPY busybox /busybox\nCMD [\"/busybox\", \"sleep\", \"3600\"]\n".write(
            toFile: root + "/image/Containerfile", atomically: true, encoding: .utf8)
        try podman(["build", "-q", "-t", PodmanHost.image, "-f", root + "/image/Containerfile", root + "/image"])
    }

    func tearDown() {
        _ = try? ApplyFixtures.run(
            ["podman"] + globalFlags + ["rm", "-a", "-f", "-t", "0"], environment: ["CONTAINERS_CONF": containersConf])
        _ = try? ApplyFixtures.run(
            ["podman"] + globalFlags + ["rmi", "-f", PodmanHost.image], environment: ["CONTAINERS_CONF": containersConf]
        )
        try? FileManager.default.removeItem(atPath: root)
    }

    @discardableResult
    func podman(_ arguments: [String]) throws -> String {
        let result = try ApplyFixtures.run(
            ["podman"] + globalFlags + arguments, environment: ["CONTAINERS_CONF": containersConf])
        guard result.status == 0 else {
            throw PodmanFailure(description: "podman \(arguments.joined(separator: " ")): \(result.err)")
        }
        return result.out
    }

    func pid(of container: String) throws -> String {
        try podman(["inspect", "--format", "{{.State.Pid}}", container]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

struct PodmanFailure: Error, CustomStringConvertible {
    let description: String
}
