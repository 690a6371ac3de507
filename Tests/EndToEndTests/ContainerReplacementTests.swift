import Apply
import FileAccess
import Foundation
import Queue
import SystemPackage
import Testing

/// An approved Dockerfile replaces a real podman container: new image,
/// everything else carried over; a failed build or start leaves the bottle
/// running. Same conditions as ``ApplyPodmanTests``; elsewhere skipped, with this reason.
@Suite(
    .enabled(
        if: PodmanHost.isUsable,
        "needs podman on PATH, root, and /bin/busybox from busybox-static (apt-get install -y podman runc busybox-static)"
    ),
    .serialized)
struct ContainerReplacementTests {
    /// One bottle container on its own network, with a workspace, env, labels, a user and a restart policy.
    final class Bottle {
        let podman: PodmanHost
        let slug: String
        let bottle: BottleSlug
        let configRoot: FilePath
        let queueRoot: FilePath
        let workspace: String
        let engine: String
        /// podman's Docker-compatible API service, when the engine is the docker CLI.
        private var service: pid_t?
        static let base = "FROM \(PodmanHost.image)\n"

        /// Whether the docker CLI is here to drive podman's Docker-compatible API.
        static var hasDockerCLI: Bool { (try? ApplyFixtures.run(["sh", "-c", "command -v docker"]).status) == 0 }

        /// A bottle whose engine is podman, or (`dockerCLI`) the docker CLI talking to
        /// `podman system service` on the same storage, which reports Docker-shaped inspect JSON.
        init(dockerCLI: Bool = false) throws {
            podman = try PodmanHost()
            slug = "bs-repl-\(UUID().uuidString.prefix(6).lowercased())"
            bottle = try BottleSlug(slug)
            configRoot = FilePath(podman.root + "/bottles")
            queueRoot = FilePath(podman.root + "/queue")
            workspace = podman.root + "/workspace"
            try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
            try "on the branch\n".write(toFile: workspace + "/BRANCH", atomically: true, encoding: .utf8)
            try AtomicFile.makeDirectory(configRoot.appending(slug))
            try AtomicFile.write(Data(Self.base.utf8), to: configRoot.appending(slug).appending("Dockerfile"))
            // The engine the operator names (--engine): podman on the test's isolated storage.
            engine = podman.root + "/engine"
            let flags = podman.globalFlags.map { "'\($0)'" }.joined(separator: " ")
            if dockerCLI {
                let socket = podman.root + "/docker.sock"
                service = try ApplyFixtures.spawn(
                    ["podman"] + podman.globalFlags + ["system", "service", "--time=0", "unix://" + socket],
                    environment: ["CONTAINERS_CONF": podman.containersConf])
                try "#!/bin/sh\nDOCKER_HOST='unix://\(socket)' exec docker \"$@\"\n".write(
                    toFile: engine, atomically: true, encoding: .utf8)
                let deadline = ContinuousClock.now + .seconds(30)
                while (try? ApplyFixtures.run(["sh", "-c", "DOCKER_HOST=unix://\(socket) docker version"]).status) != 0
                {
                    guard ContinuousClock.now < deadline else {
                        throw PodmanFailure(description: "podman's API did not start")
                    }
                    usleep(100_000)
                }
            } else {
                try "#!/bin/sh\nCONTAINERS_CONF='\(podman.containersConf)' exec podman \(flags) \"$@\"\n".write(
                    toFile: engine, atomically: true, encoding: .utf8)
            }
            chmod(engine, 0o755)
            try podman.podman(["network", "create", "\(slug)-net"])
            try podman.podman(["network", "create", "\(slug)-egress"])
            let run = try ApplyFixtures.run([
                engine, "run", "-d", "--name", slug, "--network", "\(slug)-net", "--network-alias", "\(slug)-agent",
                "-v", "\(workspace):/workspace:rw", "-e", "BOTTLE_TOKEN=abc 123", "-l", "bottle.slug=\(slug)",
                "-u", "1000:1000", "--restart", "unless-stopped", "--stop-timeout", "1", "-w", "/workspace",
                PodmanHost.image, "/busybox", "sleep", "3600",
            ])
            guard run.status == 0 else { throw PodmanFailure(description: "run: \(run.err)") }
            let connect = try ApplyFixtures.run([
                engine, "network", "connect", "--alias", "\(slug)-agent", "\(slug)-egress", slug,
            ])
            guard connect.status == 0 else { throw PodmanFailure(description: "network connect: \(connect.err)") }
            try QueueRoot(queueRoot).queue(for: bottle).prepare()
        }

        func tearDown() {
            if let service {
                kill(service, SIGTERM)
                var status: Int32 = 0
                waitpid(service, &status, 0)
            }
            _ = try? podman.podman(["rm", "-a", "-f", "-t", "0"])
            _ = try? podman.podman(["network", "rm", "-f", "\(slug)-net", "\(slug)-egress"])
            _ = try? podman.podman(["rmi", "-f", "localhost/\(slug):supervise"])
            podman.tearDown()
        }

        /// `inspect --format FORMAT NAME`, trimmed.
        func inspect(_ format: String, _ name: String? = nil) throws -> String {
            try podman.podman(["inspect", "--format", format, name ?? slug]).trimmingCharacters(
                in: .whitespacesAndNewlines)
        }

        /// Runs `/busybox ARGS` inside the bottle.
        func exec(_ arguments: [String]) throws -> String {
            try podman.podman(["exec", slug, "/busybox"] + arguments).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        var containerNames: [String] {
            get throws {
                try podman.podman(["ps", "-a", "--format", "{{.Names}}"]).split(separator: "\n").map(String.init)
                    .sorted()
            }
        }

        var queue: BottleQueue { QueueRoot(queueRoot).queue(for: bottle) }

        /// Queues `dockerfile` as the agent's capability-block proposal.
        func propose(_ dockerfile: String) async throws -> Proposal {
            let proposal = Proposal(
                bottle: bottle, tool: .capabilityBlock, proposedFile: dockerfile, justification: "need the tool",
                currentFileSHA256: try ConfigRoot(configRoot).currentSHA256(.dockerfile, for: bottle))
            _ = try await queue.submit(proposal)
            return proposal
        }

        /// Proposes `dockerfile` as a capability-block and approves it through the Applier.
        func approve(_ dockerfile: String) async throws -> (Decision, Duration) {
            let proposal = try await propose(dockerfile)
            let applier = Applier(
                configRoot: configRoot, queueRoot: queueRoot, engine: ContainerEngine(engine), operatorName: "alice")
            let start = ContinuousClock.now
            let decision = try await applier.apply(
                decision: Decision(
                    id: proposal.id, status: .approved, decidedBy: "alice", proposalSHA256: reviewedSHA256(proposal)),
                proposal: proposal, queue: queue)
            return (decision, ContinuousClock.now - start)
        }

        var currentDockerfile: String? {
            get throws { try ConfigRoot(configRoot).current(.dockerfile, for: bottle) }
        }
    }

    @Test func anApprovedDockerfileReplacesTheContainerKeepingItsSettings() async throws {
        let bottle = try Bottle()
        defer { bottle.tearDown() }
        let oldID = try bottle.inspect("{{.Id}}")
        let oldImage = try bottle.inspect("{{.Image}}")
        let proposed =
            Bottle.base + "RUN [\"/busybox\", \"sh\", \"-c\", \"echo v2 > /marker\"]\nLABEL bottle.version=2\n"

        let (decision, took) = try await bottle.approve(proposed)
        print("replacement (build included) took \(took)")
        let outcome = try #require(decision.apply)
        #expect(outcome.state == .applied, "\(outcome.summary) \(outcome.outputTail ?? "")")
        #expect(outcome.summary.contains("replaced container \(bottle.slug)"))

        // A new container from the new image, under the bottle's name; the old one is gone.
        let newID = try bottle.inspect("{{.Id}}")
        #expect(newID != oldID)
        #expect(try bottle.inspect("{{.Image}}") != oldImage)
        #expect(try bottle.inspect("{{.State.Running}}") == "true")
        #expect(try bottle.containerNames == [bottle.slug])
        #expect(try bottle.exec(["cat", "/marker"]) == "v2")
        #expect(try bottle.inspect("{{index .Config.Labels \"bottle.version\"}}") == "2")
        // Everything else carried over, seen from inside and from inspect.
        #expect(try bottle.exec(["cat", "/workspace/BRANCH"]) == "on the branch")
        #expect(try bottle.exec(["id", "-u"]) == "1000")
        #expect(try bottle.exec(["pwd"]) == "/workspace")
        #expect(try bottle.exec(["sh", "-c", "echo \"$BOTTLE_TOKEN\""]) == "abc 123")
        #expect(try bottle.inspect("{{index .Config.Labels \"bottle.slug\"}}") == bottle.slug)
        #expect(try bottle.inspect("{{.HostConfig.RestartPolicy.Name}}") == "unless-stopped")
        #expect(try bottle.inspect("{{join .Config.Cmd \" \"}}") == "/busybox sleep 3600")
        let networks = try bottle.inspect(
            "{{range $name, $net := .NetworkSettings.Networks}}{{$name}}={{join $net.Aliases \",\"}};{{end}}")
        // Both networks, each with the alias (this podman uses CNI without DNS, so names are checked in inspect).
        #expect(networks.contains("\(bottle.slug)-net=\(bottle.slug)-agent"), "\(networks)")
        #expect(networks.contains("\(bottle.slug)-egress=\(bottle.slug)-agent"), "\(networks)")
        #expect(!networks.contains(String(oldID.prefix(12))))
        // The file the bottle sees is the approved one.
        #expect(try bottle.currentDockerfile == proposed)
        // Hardened (issue 21): the user pinned by the numbers the old process ran as (from its
        // /proc status), and no-new-privileges, seen by the kernel inside the new container.
        #expect(try bottle.inspect("{{.Config.User}}") == "1000:1000")
        #expect(try bottle.exec(["grep", "NoNewPrivs", "/proc/self/status"]).hasSuffix("1"))
    }

    @Test func aDockerfileWithBuildTimePrivilegeIsNeverBuilt() async throws {
        let bottle = try Bottle()
        defer { bottle.tearDown() }
        let oldID = try bottle.inspect("{{.Id}}")
        let (decision, _) = try await bottle.approve(
            Bottle.base + "RUN --network=host [\"/busybox\", \"true\"]\n")
        let outcome = try #require(decision.apply)
        #expect(outcome.state == .failed)
        #expect(outcome.summary.contains("RUN --network=host"), "\(outcome.summary)")
        #expect(try bottle.inspect("{{.Id}}") == oldID)
        #expect(try bottle.inspect("{{.State.Running}}") == "true")
        #expect(try bottle.currentDockerfile == Bottle.base)  // the previous Dockerfile is put back
    }

    @Test(.enabled(if: Bottle.hasDockerCLI, "needs the docker CLI (it talks to podman's Docker-compatible API here)"))
    func theDockerCLIReplacesItTooFromDockerShapedInspect() async throws {
        let bottle = try Bottle(dockerCLI: true)
        defer { bottle.tearDown() }
        let oldID = try bottle.inspect("{{.Id}}")
        let (decision, _) = try await bottle.approve(
            Bottle.base + "RUN [\"/busybox\", \"sh\", \"-c\", \"echo v2 > /marker\"]\n")
        let outcome = try #require(decision.apply)
        #expect(outcome.state == .applied, "\(outcome.summary) \(outcome.outputTail ?? "")")
        #expect(try bottle.inspect("{{.Id}}") != oldID)
        #expect(try bottle.containerNames == [bottle.slug])
        #expect(try bottle.exec(["cat", "/marker"]) == "v2")
        #expect(try bottle.exec(["cat", "/workspace/BRANCH"]) == "on the branch")
        #expect(try bottle.exec(["id", "-u"]) == "1000")
        #expect(try bottle.exec(["sh", "-c", "echo \"$BOTTLE_TOKEN\""]) == "abc 123")
        let networks = try bottle.inspect(
            "{{range $name, $net := .NetworkSettings.Networks}}{{$name}}={{join $net.Aliases \",\"}};{{end}}")
        #expect(networks.contains("\(bottle.slug)-net=\(bottle.slug)-agent"), "\(networks)")
        #expect(networks.contains("\(bottle.slug)-egress=\(bottle.slug)-agent"), "\(networks)")
    }

    @Test func aFailingBuildLeavesTheBottleRunningAndSaysWhy() async throws {
        let bottle = try Bottle()
        defer { bottle.tearDown() }
        let oldID = try bottle.inspect("{{.Id}}")
        let oldPID = try bottle.inspect("{{.State.Pid}}")

        let (decision, _) = try await bottle.approve(Bottle.base + "RUN [\"/busybox\", \"false\"]\n")
        let outcome = try #require(decision.apply)
        #expect(outcome.state == .failed)
        #expect(
            outcome.summary.hasPrefix("approved, not applied: building localhost/\(bottle.slug):supervise failed: "))
        #expect(outcome.summary.contains("exit status 1"), "\(outcome.summary)")  // the build's last line
        #expect(outcome.summary.hasSuffix("the bottle's container was not touched"))
        #expect(try bottle.inspect("{{.Id}}") == oldID)
        #expect(try bottle.inspect("{{.State.Pid}}") == oldPID)  // not even restarted
        #expect(try bottle.containerNames == [bottle.slug])
        #expect(try bottle.currentDockerfile == Bottle.base)  // the previous file is back
    }

    @Test func aNewContainerThatCannotStartGivesTheBottleBackItsOldOne() async throws {
        let bottle = try Bottle()
        defer { bottle.tearDown() }
        let oldID = try bottle.inspect("{{.Id}}")

        // The new image's entrypoint does not exist: `start` fails.
        let (decision, _) = try await bottle.approve(Bottle.base + "ENTRYPOINT [\"/missing\"]\n")
        let outcome = try #require(decision.apply)
        #expect(outcome.state == .failed)
        #expect(outcome.summary.hasPrefix("approved, not applied: starting the new container failed: "))
        #expect(outcome.summary.contains("/missing: no such file or directory"), "\(outcome.summary)")
        #expect(outcome.summary.hasSuffix("the old container is running again"), "\(outcome.summary)")
        #expect(try bottle.inspect("{{.Id}}") == oldID)
        #expect(try bottle.inspect("{{.State.Running}}") == "true")
        #expect(try bottle.containerNames == [bottle.slug])
        #expect(try bottle.exec(["cat", "/workspace/BRANCH"]) == "on the branch")
        #expect(try bottle.currentDockerfile == Bottle.base)
    }

    @Test func aHostProcessKilledBetweenStopAndStartIsFinishedByTheNextCommand() async throws {
        let bottle = try Bottle()
        defer { bottle.tearDown() }
        let oldID = try bottle.inspect("{{.Id}}")
        // An engine that kills its caller (bottle-supervise approve) at the first `start`: the
        // old container is stopped and parked, the new one named but never started.
        let crashing = bottle.podman.root + "/crashing-engine"
        let marker = bottle.podman.root + "/crashed"
        try """
        #!/bin/sh
        if [ "$1" = start ] && [ ! -e '\(marker)' ]; then touch '\(marker)'; kill -KILL $PPID; exit 1; fi
        exec '\(bottle.engine)' "$@"

        """.write(toFile: crashing, atomically: true, encoding: .utf8)
        chmod(crashing, 0o755)
        let proposal = try await bottle.propose(Bottle.base + "LABEL bottle.version=2\n")
        let environment = [
            "SUPERVISE_QUEUE_ROOT": bottle.queueRoot.string, "SUPERVISE_CONFIG_ROOT": bottle.configRoot.string,
            "SUPERVISE_ENGINE": crashing, "NO_COLOR": "1",
        ]
        let approve = try ApplyFixtures.run(
            [BuiltBinary.path, "approve", proposal.id.rawValue], environment: environment, timeout: .seconds(300))
        #expect(approve.status == 128 + SIGKILL, "\(approve.out) \(approve.err)")
        #expect(try bottle.inspect("{{.State.Running}}", oldID) == "false")  // the bottle is down
        #expect(try bottle.queue.decision(proposal.id)?.apply?.state == .pending)

        // Any next host command finishes it: the old container runs again under its name.
        let list = try ApplyFixtures.run([BuiltBinary.path, "list"], environment: environment, timeout: .seconds(120))
        #expect(list.status == 0, "\(list.out) \(list.err)")
        #expect(
            list.err.contains(
                "finished an interrupted apply of \(proposal.id): approved, not applied: apply interrupted; "
                    + "the interrupted replacement of container \(bottle.slug) was undone"), "\(list.err)")
        #expect(try bottle.inspect("{{.Id}}") == oldID)
        #expect(try bottle.inspect("{{.State.Running}}") == "true")
        #expect(try bottle.containerNames == [bottle.slug])
        let outcome = try #require(try bottle.queue.decision(proposal.id)?.apply)
        #expect(outcome.state == .failed)
        #expect(
            outcome.summary
                == "approved, not applied: apply interrupted; the interrupted replacement of container "
                + "\(bottle.slug) was undone: the old container runs again; the previous Dockerfile was put back")
        #expect(try bottle.currentDockerfile == Bottle.base)
    }
}
