import FileAccess
import Foundation
import Queue
import SystemPackage
import Testing

@testable import Apply

/// The replacement's hardening (issue 21): the user pinned by the numbers
/// the old process runs as, no-new-privileges, the build's network and
/// refused build privilege, the new container from the built image's id,
/// recovery by the journal's phase, and the settings carried or refused.
@Suite struct ReplacementHardeningTests {
    let directory: FilePath

    init() throws {
        directory = FilePath(NSTemporaryDirectory()).appending("hardening-\(UUID().uuidString.prefix(8))")
        try AtomicFile.makeDirectory(directory)
    }

    var journal: FilePath { ReplacementJournal.path(in: directory) }

    func replacement(
        _ engine: FakeEngine, dockerfile: String = "/cfg/bot1/Dockerfile", network: ReloadAction.BuildNetwork = .bottle,
        allowNewPrivileges: Bool = false
    ) -> ContainerReplacement {
        ContainerReplacement(
            engine: "podman",
            target: ContainerReplacement.Target(
                container: "bot1", image: "localhost/bot1:supervise", dockerfile: dockerfile, context: "/cfg/bot1",
                buildNetwork: network, allowNewPrivileges: allowNewPrivileges),
            runner: engine, clock: SteppingClock(), journalPath: journal, buildTimeout: .seconds(600), suffix: "abc123")
    }

    func created(_ engine: FakeEngine) -> [String] {
        engine.recorded.first { $0.dropFirst().first == "create" } ?? []
    }

    @Test("the new container runs as the uid, gid and groups the old process runs as, not as a name")
    func userPinnedByNumber() {
        let engine = FakeEngine()
        engine.oldProcessStatus = "Name:\tsh\nUid:\t4242\t4242\t4242\t4242\nGid:\t777\t777\t777\t777\nGroups:\t777 27 1001\n"
        let outcome = replacement(engine).run()
        #expect(outcome.succeeded, "\(outcome.summary)")
        let create = created(engine)
        #expect(create.contains("--user=4242:777"))
        #expect(!create.contains("--user=1000:1000"))  // what the engine reports is replaced by what runs
        #expect(create.contains("--group-add=27") && create.contains("--group-add=1001"))
        #expect(!create.contains("--group-add=777"))
    }

    @Test("in a user namespace (rootless engines) the host's ids are turned back into the container's")
    func userNamespaceMapping() {
        let engine = FakeEngine()
        // Rootless: container 0 is host 1000, container 1..65536 are host 100000...
        engine.oldProcessStatus = "Uid:\t100999\t100999\t100999\t100999\nGid:\t100999\t100999\t100999\t100999\nGroups:\t100999 100026\n"
        engine.oldIDMap = "         0       1000          1\n         1     100000      65536\n"
        #expect(replacement(engine).run().succeeded)
        #expect(created(engine).contains("--user=1000:1000"))
        #expect(created(engine).contains("--group-add=27"))
        // An id outside the map is refused, not guessed.
        let outside = FakeEngine()
        outside.oldProcessStatus = "Uid:\t5\t5\t5\t5\nGid:\t5\t5\t5\t5\n"
        outside.oldIDMap = "0 1000 1\n1 100000 65536\n"
        let refused = replacement(outside).run()
        #expect(!refused.succeeded && refused.summary.contains("map does not cover"))
        #expect(ContainerSpec.inside(7, map: "0 0 4294967295\n") == 7)
    }

    @Test("a process whose /proc status cannot be read stops the replacement before anything changes")
    func unreadableProcessStatus() {
        let engine = FakeEngine()
        engine.oldProcessStatus = nil
        let outcome = replacement(engine).run()
        #expect(!outcome.succeeded)
        #expect(outcome.summary.contains("/proc/12766/status"))
        #expect(!engine.verbs.contains("create") && !engine.verbs.contains("stop"))
        engine.oldProcessStatus = "Name:\tsh\n"
        #expect(replacement(engine).run().summary.contains("no Uid/Gid"))
    }

    @Test("no-new-privileges is added unless the old ran without it and the operator keeps it off")
    func noNewPrivileges() {
        let engine = FakeEngine()
        _ = replacement(engine).run()
        #expect(created(engine).contains("--security-opt=no-new-privileges"))
        let allowed = FakeEngine()
        _ = replacement(allowed, allowNewPrivileges: true).run()
        #expect(!created(allowed).contains { $0.contains("no-new-privileges") })
    }

    @Test("RUN --network=host and --security=insecure are never built, whatever build_network says")
    func buildPrivilegeRefused() throws {
        for (run, word) in [
            ("RUN --network=host curl http://169.254.169.254/", "--network=host"),
            (#"RUN --NETWORK="host" true"#, "--network=host"), ("RUN --security=insecure true", "--security=insecure"),
            ("RUN --mount=type=cache,target=/c \\\n    --network=host true", "--network=host"),
            ("ARG N=host\nRUN --network=$N true", "--network from a variable"),
        ] {
            let file = directory.appending("Dockerfile")
            try AtomicFile.write(Data("FROM debian:bookworm-slim\n\(run)\nUSER agent\n".utf8), to: file)
            for network in ReloadAction.BuildNetwork.allCases {
                let engine = FakeEngine()
                let outcome = replacement(engine, dockerfile: file.string, network: network).run()
                #expect(!outcome.succeeded)
                #expect(outcome.summary.contains(word) && outcome.summary.contains("line "), "\(outcome.summary)")
                #expect(!engine.verbs.contains("build"))
            }
        }
        let file = directory.appending("Dockerfile")
        try AtomicFile.write(Data("FROM debian:bookworm-slim\nRUN --network=none echo --network=host\n".utf8), to: file)
        #expect(replacement(FakeEngine(), dockerfile: file.string).run().succeeded)
    }

    @Test("the build's network is the operator's choice; the bottle's egress carries its proxy settings")
    func buildNetwork() throws {
        let none = FakeEngine()
        _ = replacement(none, network: .none).run()
        #expect(none.recorded.first { $0.dropFirst().first == "build" }?.contains("--network=none") == true)
        let host = FakeEngine()
        _ = replacement(host, network: .host).run()
        #expect(host.recorded.first { $0.dropFirst().first == "build" }?.contains("--network=host") == true)
        var spec = try ContainerSpec(
            container: ContainerState.single(from: InspectFixtures.podmanContainer),
            image: ContainerState.single(from: InspectFixtures.podmanImage))
        spec.proxyEnvironment = ["HTTPS_PROXY=http://pipelock:8888", "no_proxy=localhost"]
        let arguments = replacement(FakeEngine()).buildArguments(spec, imageIDFile: "/x/iid")
        #expect(arguments.contains("--network=bsnet"))
        #expect(arguments.contains("--build-arg=HTTPS_PROXY=http://pipelock:8888"))
        #expect(arguments.contains("--build-arg=no_proxy=localhost"))
    }

    @Test("an image id that is missing or not an id is refused")
    func imageIDFile() throws {
        let file = directory.appending(".replacement-image-id")
        try AtomicFile.write(Data("not-an-id".utf8), to: file)
        if case .failure(let failure) = ContainerReplacement.readImageID(file) {
            #expect(failure.what.contains("no image id"))
        } else {
            Issue.record("a bad id was read")
        }
        if case .success = ContainerReplacement.readImageID(directory.appending("missing")) {
            Issue.record("a missing id file was read")
        }
        let id = String(repeating: "ab", count: 32)
        try AtomicFile.write(Data("sha256:\(id)\n".utf8), to: file)
        #expect(try ContainerReplacement.readImageID(file).get() == id)
    }

    @Test("recovery cut off while creating removes only the new container and leaves the old as it is")
    func recoveryWhileCreating() throws {
        let engine = FakeEngine()
        engine.dieAfter = { $0.first == "create" }
        _ = replacement(engine).run()
        // The host process died right after create: its journal says so.
        let healthy = FakeEngine.resuming(engine)
        let new = try #require(healthy.container(named: "bot1-next-abc123"))
        try ReplacementJournal(
            engine: "podman", name: "bot1", oldID: FakeEngine.oldID, oldWasRunning: true, parkedName: "bot1-old-abc123",
            nextName: "bot1-next-abc123", newID: new.id, phase: .creating
        ).write(to: journal)
        let recovery = ContainerReplacement.recover(journalPath: journal, runner: healthy)
        #expect(recovery?.summary.contains("before it touched the old container") == true, "\(String(describing: recovery))")
        #expect(healthy.all.count == 1)
        #expect(healthy.all.first?.id == FakeEngine.oldID && healthy.all.first?.running == true)
        #expect(!healthy.verbs.contains("start") && !healthy.verbs.contains("rename"))
    }

    @Test("recovery cut off while removing the old container finishes the replacement, not undoes it")
    func recoveryWhileRemovingOld() throws {
        let engine = FakeEngine()
        engine.dieAfter = { $0.first == "start" }  // the new one started, and was seen to stay up
        _ = replacement(engine).run()
        var written = try #require(try ReplacementJournal.read(journal))
        written.phase = .removingOld
        try written.write(to: journal)
        let healthy = FakeEngine.resuming(engine)
        #expect(healthy.all.count == 2)  // both containers are still there
        let recovery = ContainerReplacement.recover(journalPath: journal, runner: healthy)
        #expect(recovery?.summary.contains("the old one is removed") == true, "\(String(describing: recovery))")
        #expect(healthy.all.map(\.id) == [written.newID])
        #expect(healthy.container(named: "bot1")?.running == true)
    }
}

extension ReplacementHardeningTests {
    @Test("the operator's settings are kept as a baseline, so two approvals cannot walk one away")
    func baseline() throws {
        // Approval 1: the operator's -e FOO=bar and -l team=x are carried and recorded.
        let engine = FakeEngine()
        #expect(replacement(engine).run().succeeded)
        let recorded = try ReplacementBaseline.read(ReplacementBaseline.path(in: directory))
        #expect(recorded.contains("env:FOO=bar") && recorded.contains("label:team=x"))
        // Approval 2: the old image now has ENV FOO=bar (the agent's first step). Without the
        // baseline the value would be dropped as "the old image's"; with it, it stays.
        let image = InspectFixtures.podmanImage.replacingOccurrences(
            of: #""Env": ["#, with: #""Env": ["FOO=bar", "#)
            .replacingOccurrences(of: #""Labels": {"#, with: #""Labels": {"team": "x", "#)
        let container = try ContainerState.single(from: InspectFixtures.podmanContainer)
        let walked = try ContainerSpec(container: container, image: ContainerState.single(from: image))
        #expect(!walked.options.contains("--env=FOO=bar"))  // the walk, without a baseline
        let kept = try ContainerSpec(container: container, image: ContainerState.single(from: image), baseline: recorded)
        #expect(kept.options.contains("--env=FOO=bar") && kept.options.contains("--label=team=x"))
        // A baseline that is not this program's stops the replacement before anything changes.
        try AtomicFile.write(Data("{not json".utf8), to: ReplacementBaseline.path(in: directory))
        let refused = FakeEngine()
        let outcome = replacement(refused).run()
        #expect(!outcome.succeeded && outcome.summary.contains("baseline"))
        #expect(!refused.verbs.contains("build"))
    }
}

@Suite struct ContainerSpecCarryTests {
    func spec(_ edit: (String) -> String) throws -> ContainerSpec {
        try ContainerSpec(
            container: ContainerState.single(from: edit(InspectFixtures.podmanContainer)),
            image: ContainerState.single(from: InspectFixtures.podmanImage))
    }

    @Test("ulimits, sysctls, resource limits, shm size and bind-mount options are carried")
    func carried() throws {
        let carried = try spec {
            $0.replacingOccurrences(of: #""Ulimits": []"#, with: #""Ulimits": [{"Name": "RLIMIT_NOFILE", "Soft": 1024, "Hard": 4096}]"#)
                .replacingOccurrences(of: #""MemoryReservation": 0"#, with: #""MemoryReservation": 104857600"#)
                .replacingOccurrences(of: #""CpuShares": 0"#, with: #""CpuShares": 512"#)
                .replacingOccurrences(of: #""CpusetCpus": """#, with: #""CpusetCpus": "0-1""#)
                .replacingOccurrences(of: #""ShmSize": 65536000"#, with: #""ShmSize": 268435456, "Sysctls": {"net.ipv4.ip_forward": "0"}"#)
                .replacingOccurrences(of: #""rbind""#, with: #""rbind", "nosuid", "nodev", "noexec""#)
        }.options
        for option in [
            "--ulimit=nofile=1024:4096", "--memory-reservation=104857600", "--cpu-shares=512", "--cpuset-cpus=0-1",
            "--shm-size=268435456", "--sysctl=net.ipv4.ip_forward=0",
            "--volume=/work/tmp/wt-replace/pexp/ws:/workspace:rw,nosuid,nodev,noexec",
        ] {
            #expect(carried.contains(option), "\(option) in \(carried)")
        }
    }

    @Test("a bind-mount option or a per-device I/O limit that cannot be carried is refused")
    func refused() {
        #expect(throws: ContainerSpec.Problem.self) {
            try spec { $0.replacingOccurrences(of: #""rbind""#, with: #""rbind", "idmap""#) }
        }
        #expect(throws: ContainerSpec.Problem.self) {
            try spec {
                $0.replacingOccurrences(
                    of: #""BlkioDeviceReadBps": null"#, with: #""BlkioDeviceReadBps": [{"Path": "/dev/sda", "Rate": 1}]"#)
            }
        }
    }

    @Test("the process identity is read from /proc/<pid>/status")
    func processIdentity() {
        let identity = ContainerSpec.processIdentity("Name:\tx\nUid:\t0\t0\t0\t0\nGid:\t10\t10\t10\t10\nGroups:\t10 20 \n")
        #expect(identity?.uid == 0 && identity?.gid == 10 && identity?.groups == [10, 20])
        #expect(ContainerSpec.processIdentity("Name:\tx\n") == nil)
    }
}
