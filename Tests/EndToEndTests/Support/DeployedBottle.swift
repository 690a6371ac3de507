import FileAccess
import Foundation
import PostgresTestSupport
import Queue

/// A bottle's deployment on a real container engine, as docs/deployment.md
/// describes it: the sidecar image built by `scripts/build-image`, the host's
/// queue and config roots, stand-in `<slug>-pipelock` and `<slug>-cred-proxy`
/// containers, and a bottle network. Everything lives in one ``PodmanHost``
/// (isolated storage under /tmp), removed by ``tearDown()``.
final class DeployedBottle: Sendable {
    let podman: PodmanHost
    let slug: String
    /// The image `scripts/build-image` printed.
    let image: String
    /// An executable that runs podman with the isolated storage flags: what
    /// the operator's tools get as `SUPERVISE_ENGINE`, and `scripts/build-image` as `--engine`.
    let engine: String
    let queueRoot: String
    let configRoot: String
    let network: String

    /// The bridge interface of ``network``: unique, so that isolated test hosts never share one.
    let bridge: String

    var queueDirectory: String { queueRoot + "/" + slug }
    var configDirectory: String { configRoot + "/" + slug }

    /// The binary put into the image: `$SUPERVISE_TEST_IMAGE_BINARY` (e.g.
    /// the static build, `.build-static/release/bottle-supervise-sidecar`), else
    /// the `bottle-supervise-sidecar` built beside the binary under test, as the
    /// image ships it. See docs/deployment.md for why the test's default is the
    /// debug build.
    static var imageBinary: String {
        ProcessInfo.processInfo.environment["SUPERVISE_TEST_IMAGE_BINARY"] ?? SidecarBinaryTests.leanBinary
    }

    /// The network backend podman used for ``network``, as `podman info` reports it (`cni` or `netavark`).
    let networkBackend: String

    /// - Parameter backend: `cni` or `netavark` to choose one (written into the isolated
    ///   containers.conf); nil leaves the choice to podman, as a user's machine does: netavark
    ///   whenever it is installed (a Debian install with recommended packages), else CNI.
    init(podman: PodmanHost, backend: NetworkBackend? = nil) throws {
        self.podman = podman
        let suffix = UUID().uuidString.prefix(6).lowercased()
        slug = "bs-deploy-\(suffix)"
        network = "\(slug)-net"
        bridge = "bsdep\(suffix)"
        queueRoot = podman.root + "/queue"
        configRoot = podman.root + "/bottles"
        engine = podman.root + "/podman-isolated"
        // Networks are configured in the isolated root too, not in /etc/cni or /etc/containers/networks.
        let conf = try String(contentsOfFile: podman.containersConf, encoding: .utf8)
        var network = "[network]\nnetwork_config_dir = \"\(podman.root)/networks\"\n"
        if let backend { network += "network_backend = \"\(backend.rawValue)\"\n" }
        try (conf + network).write(toFile: podman.containersConf, atomically: true, encoding: .utf8)
        let wrapper =
            "#!/bin/sh\nexec env CONTAINERS_CONF='\(podman.containersConf)' podman "
            + podman.globalFlags.map { "'\($0)'" }.joined(separator: " ") + " \"$@\"\n"
        try wrapper.write(toFile: engine, atomically: true, encoding: .utf8)
        chmod(engine, 0o755)
        // What podman actually uses, from podman itself: the network's file and its bridge's key differ.
        networkBackend = try podman.podman(["info", "--format", "{{.Host.NetworkBackend}}"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if let backend, networkBackend != backend.rawValue {
            throw E2EFailure("asked podman for the \(backend.rawValue) network backend; podman info says \(networkBackend)")
        }

        let built = try ApplyFixtures.run(
            [PythonClient.repoRoot + "/scripts/build-image", "--engine", engine, "--binary", Self.imageBinary],
            timeout: .seconds(600))
        guard built.status == 0, let tag = built.out.split(separator: "\n").last else {
            throw E2EFailure("scripts/build-image failed (\(built.status)):\n\(built.out)\n\(built.err)")
        }
        image = String(tag)
        // A subnet picked at random among 10.210–10.249.x.0/24, so that another isolated test host
        // (another worktree, another test) does not configure the same one.
        let subnet = "10.\(Int.random(in: 210...249)).\(Int.random(in: 0...255)).0/24"
        try podman.podman(["network", "create", "--subnet", subnet, self.network])
        try Self.renameBridge(
            of: self.network, to: bridge, backend: networkBackend, in: podman.root + "/networks")
    }

    /// Podman names a network's bridge by what *this* configuration directory knows (`cni-podmanN`
    /// with CNI, `podmanN` with netavark): another isolated test host (another test, another
    /// worktree) picks the same name, and the second one to start a container fails ("already has
    /// an IP address different from …"). Podman 4.3 has no --interface-name, so the bridge is
    /// renamed in the network's own file: `<network>.conflist` ("bridge") for CNI,
    /// `<network>.json` ("network_interface") for netavark.
    private static func renameBridge(of network: String, to bridge: String, backend: String, in directory: String) throws {
        let (file, pattern, key): (String, String, String)
        switch backend {
        case "cni": (file, pattern, key) = (directory + "/\(network).conflist", #""bridge": *"cni-podman[0-9]+""#, "bridge")
        case "netavark":
            (file, pattern, key) = (directory + "/\(network).json", #""network_interface": *"podman[0-9]+""#, "network_interface")
        default: throw E2EFailure("podman's network backend is \(backend); the test knows cni and netavark")
        }
        let text = try String(contentsOfFile: file, encoding: .utf8)
        guard let range = text.range(of: pattern, options: .regularExpression) else {
            throw E2EFailure("no bridge name in \(file) (\(backend)):\n\(text)")
        }
        try text.replacingCharacters(in: range, with: "\"\(key)\": \"\(bridge)\"").write(
            toFile: file, atomically: true, encoding: .utf8)
    }

    func tearDown() {
        _ = try? podman.podman(["rm", "-a", "-f", "-t", "0"])
        _ = try? podman.podman(["network", "rm", "-f", network])
        // CNI leaves the network's bridge on the host when the network goes: removed too (netavark
        // removes it with the last container; then this finds none).
        _ = try? ApplyFixtures.run(["ip", "link", "delete", bridge])
        _ = try? podman.podman(["rmi", "-f", image])
        podman.tearDown()
    }

    /// Writes the bottle's current config on the host.
    func writeConfig(_ files: [String: String]) throws {
        try FileManager.default.createDirectory(atPath: configDirectory, withIntermediateDirectories: true)
        for (name, text) in files {
            try AtomicFile.write(Data(text.utf8), to: .init(configDirectory + "/" + name))
        }
    }

    /// The queue directory as docs/deployment.md has the operator make it:
    /// owned by the sidecar's user, so it can write its proposals there.
    func makeQueueDirectory(owner: String = "10001:10001", mode: String = "0750") throws {
        try FileManager.default.createDirectory(atPath: queueRoot, withIntermediateDirectories: true)
        let made = try ApplyFixtures.run(["install", "-d", "-o", String(owner.split(separator: ":")[0]),
            "-g", String(owner.split(separator: ":")[1]), "-m", mode, queueDirectory])
        guard made.status == 0 else { throw E2EFailure("install -d \(queueDirectory): \(made.err)") }
    }

    /// `podman run` of the sidecar as the README's deploy section says, with
    /// its port published on loopback so that the test can play the agent.
    /// Returns the container's name.
    @discardableResult
    func runSidecar(port: Int, extraArguments: [String] = [], mounts: Bool = true) throws -> String {
        let name = "\(slug)-supervise"
        var arguments = [
            "run", "-d", "--name", name, "--log-driver", "k8s-file", "--network", network, "-p", "127.0.0.1:\(port):9100",
            "-e", "SUPERVISE_BOTTLE_SLUG=\(slug)",
        ]
        if mounts {
            arguments += [
                "-v", "\(queueDirectory):/run/supervise/queue",
                "-v", "\(configDirectory):/etc/claude-bottle/current-config:ro",
            ]
        }
        try podman.podman(arguments + extraArguments + [image])
        return name
    }

    /// A stand-in for `<slug>-pipelock` or `<slug>-cred-proxy`: busybox's
    /// shell running `script` as PID 1, the bottle's config mounted read-only
    /// at /config, as the real ones have it.
    func runStandIn(_ name: String, script: String) throws {
        try podman.podman([
            "run", "-d", "--name", name, "--network", "none", "-v", "\(configDirectory):/config:ro",
            PodmanHost.image, "/busybox", "sh", "-c", script,
        ])
    }

    /// What the container `name` printed, standard output and error
    /// (`podman logs` passes each on as its own).
    func logs(_ name: String) -> String {
        guard let result = try? ApplyFixtures.run([engine, "logs", name]) else { return "" }
        return result.out + result.err
    }

    /// The text of `path` inside the running container `name`.
    func read(_ path: String, in name: String) throws -> String {
        try podman.podman(["exec", name, "/busybox", "cat", path])
    }

    /// Whether the engine's health check passes now (`podman healthcheck run`: exit 0).
    func isHealthy(_ name: String) -> Bool {
        (try? ApplyFixtures.run([engine, "healthcheck", "run", name], timeout: .seconds(10)).status) == 0
    }

    /// A free TCP port on loopback, for `-p` (the PostgreSQL test server's probe).
    static func freePort() throws -> Int { try PostgresServer.freePort() }
}

/// Podman's two network backends. A Debian machine has CNI (containernetworking-plugins), netavark, or
/// both (podman installed with its recommended packages); with both, podman picks netavark.
enum NetworkBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case cni, netavark

    var description: String { rawValue }

    /// The backends installed here, found where Debian's packages and podman's defaults put them
    /// (`helper_binaries_dir` for netavark, `cni_plugin_dirs` for CNI's bridge plugin).
    static var installed: [NetworkBackend] {
        let exists = { (paths: [String]) in paths.contains { FileManager.default.isExecutableFile(atPath: $0) } }
        var found: [NetworkBackend] = []
        if exists(["/usr/libexec/cni/bridge", "/usr/lib/cni/bridge", "/usr/local/libexec/cni/bridge",
            "/usr/local/lib/cni/bridge", "/opt/cni/bin/bridge"]) { found.append(.cni) }
        if exists(["/usr/local/libexec/podman/netavark", "/usr/local/lib/podman/netavark", "/usr/libexec/podman/netavark",
            "/usr/lib/podman/netavark"]) { found.append(.netavark) }
        return found
    }
}
