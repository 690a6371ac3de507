import Foundation
import Queue
import Testing

@testable import Apply

/// From a real `podman inspect` (and a Docker-shaped one) to `create`
/// arguments: what is carried over, what is left to the new image.
@Suite struct ContainerSpecTests {
    func podmanSpec(container: String = InspectFixtures.podmanContainer, image: String = InspectFixtures.podmanImage)
        throws -> ContainerSpec
    {
        try ContainerSpec(container: ContainerState.single(from: container), image: ContainerState.single(from: image))
    }

    @Test func carriesTheOperatorsSettingsOfARealPodmanContainer() throws {
        let spec = try podmanSpec()
        #expect(spec.name == "bot1" && spec.running && spec.stopTimeout == 10)
        #expect(spec.imageID == FakeEngine.oldImageID)
        let arguments = spec.createArguments(name: "bot1-next-1", image: "localhost/bot1:supervise")
        #expect(
            arguments == [
                "create", "--name=bot1-next-1", "--hostname=bothost", "--user=1000:1000", "--workdir=/workspace",
                "--env=FOO=bar", "--label=team=x", "--restart=unless-stopped", "--stop-timeout=10", "--network=bsnet",
                "--network-alias=bot1-alias", "--volume=/work/tmp/wt-replace/pexp/ws:/workspace:rw",
                "--cap-add=CAP_NET_ADMIN", "--pids-limit=2048", "--shm-size=65536000", "localhost/bot1:supervise",
                "/busybox", "sleep", "1000",
            ])
    }

    @Test func leavesTheOldImagesDefaultsAndTheEnginesAdditionsToTheNewImage() throws {
        let arguments = try podmanSpec().options
        // PATH came from the image, TERM/container/HOSTNAME from podman, io.buildah.version from the image.
        #expect(!arguments.contains { $0.hasPrefix("--env=PATH=") || $0.hasPrefix("--env=TERM=") })
        #expect(!arguments.contains { $0.hasPrefix("--env=container=") || $0.hasPrefix("--env=HOSTNAME=") })
        #expect(!arguments.contains { $0.hasPrefix("--label=io.buildah.version") })
        // The short id podman adds as an alias names the old container only.
        #expect(!arguments.contains("--network-alias=f4767f0d1d60"))
    }

    @Test func theCommandOfTheOldImageIsNotPinned() throws {
        let container = InspectFixtures.podmanContainer
            .replacingOccurrences(of: "\"1000\"\n", with: "\"3600\"\n")
        let spec = try podmanSpec(container: container)
        #expect(spec.command == nil && spec.entrypoint == nil)  // the new image's CMD applies
    }

    @Test func theUserIsPinnedEvenWhenItCameFromTheOldImage() throws {
        // The old image said USER 1000:1000 and the container shows it: the new one runs as 1000:1000
        // whatever USER the agent's Dockerfile ends with.
        let image = #"[{"Config": {"User": "1000:1000", "Cmd": ["/busybox", "sleep", "3600"]}}]"#
        let spec = try podmanSpec(image: image)
        #expect(spec.options.contains("--user=1000:1000"))
    }

    @Test func readsADockerShapedInspect() throws {
        let docker = #"""
            [{"Id": "0123456789abcdef0123", "Name": "/web-1", "Image": "sha256:aaa",
              "State": {"Running": true, "Status": "running"},
              "Config": {"Hostname": "0123456789ab", "User": "", "Env": ["A=1", "PATH=/usr/bin"],
                         "Cmd": ["serve"], "Entrypoint": ["/entry", "--flag"], "Labels": {"x": "y"},
                         "Tty": true, "OpenStdin": true},
              "HostConfig": {"NetworkMode": "web-net", "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
                             "PortBindings": {"80/tcp": [{"HostIp": "::1", "HostPort": "8080"}]},
                             "Tmpfs": {"/scratch": "size=1m"}, "Init": true, "Privileged": false,
                             "SecurityOpt": ["no-new-privileges"], "CapDrop": ["ALL"]},
              "Mounts": [{"Type": "volume", "Name": "home", "Destination": "/home/agent", "RW": true},
                         {"Type": "bind", "Source": "/srv/ws", "Destination": "/ws", "RW": false, "Propagation": "rslave"}],
              "NetworkSettings": {"Networks": {"web-net": {"Aliases": ["agent", "0123456789ab"]},
                                               "db-net": {"Aliases": null}}}}]
            """#
        let image = #"[{"Config": {"Env": ["PATH=/usr/bin"], "Entrypoint": null, "Cmd": ["sh"]}}]"#
        let spec = try ContainerSpec(
            container: ContainerState.single(from: docker), image: ContainerState.single(from: image))
        #expect(spec.name == "web-1")
        #expect(spec.entrypoint == ["/entry", "--flag"] && spec.command == ["serve"])
        #expect(spec.extraNetworks == [.init(name: "db-net", aliases: [])])
        let arguments = spec.createArguments(name: "n", image: "img")
        #expect(
            arguments == [
                "create", "--name=n", "--env=A=1", "--label=x=y", "--restart=on-failure:3", "--network=web-net",
                "--network-alias=agent", "--publish=[::1]:8080:80/tcp", "--volume=home:/home/agent:rw",
                "--volume=/srv/ws:/ws:ro,rslave", "--tmpfs=/scratch:size=1m", "--cap-drop=ALL",
                "--security-opt=no-new-privileges", "--init", "--interactive", "--tty", "--entrypoint=/entry", "img",
                "--flag", "serve",
            ])
    }

    @Test(arguments: [
        (#""Source": "/work/tmp/wt-replace/pexp/ws""#, #""Source": "/srv/a:b""#, "has a path with ':' or ','"),
        (#""Type": "bind""#, #""Type": "npipe""#, "is of type npipe"),
        (#""Pod": """#, #""Pod": "p1""#, "it runs in pod p1"),
        (#""AutoRemove": false"#, #""AutoRemove": true"#, "it was started with --rm"),
        (
            #""io.podman.annotations.autoremove": "FALSE""#, #""io.podman.annotations.autoremove": "TRUE""#,
            "it was started with --rm"
        ),
        // The sandbox a recreate would not keep: gVisor, and a user namespace podman reports only as "private".
        (#""OCIRuntime": "runc""#, #""OCIRuntime": "runsc""#, "it runs under the OCI runtime runsc"),
        (#""UsernsMode": """#, #""UsernsMode": "private""#, "it runs in a private user namespace"),
        (
            #""UsernsMode": "","#, #""UsernsMode": "", "IDMappings": {"UidMap": ["0:100000:65536"], "GidMap": []},"#,
            "it runs in a private user namespace"
        ),
    ])
    func refusesWhatCannotBeCarriedOver(original: String, replacement: String, message: String) throws {
        let container = InspectFixtures.podmanContainer.replacingOccurrences(of: original, with: replacement)
        #expect(container != InspectFixtures.podmanContainer)
        do {
            _ = try podmanSpec(container: container)
            Issue.record("expected a refusal")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test("an environment entry without a value is refused: as --env it would copy the host's variable into the bottle")
    func anEnvironmentEntryWithoutAValueIsRefused() throws {
        let container = InspectFixtures.podmanContainer.replacingOccurrences(
            of: #""container=podman","#, with: #""container=podman", "AWS_SECRET_ACCESS_KEY","#)
        #expect(container != InspectFixtures.podmanContainer)
        #expect(throws: (any Error).self) { try podmanSpec(container: container) }
    }

    @Test func aFieldOfTheWrongTypeIsNamed() throws {
        let container = InspectFixtures.podmanContainer.replacingOccurrences(
            of: #""User": "1000:1000""#, with: #""User": 1000"#)
        #expect(throws: ContainerSpec.Problem.field(EngineFieldError(field: "Config.User", expected: "a string"))) {
            try podmanSpec(container: container)
        }
    }

    @Test func aDuplicateKeyOrHugeNestingIsRefused() {
        #expect(throws: JSONSyntaxError.self) { try ContainerState.single(from: #"[{"Id": "a", "Id": "b"}]"#) }
        #expect(throws: JSONSyntaxError.self) {
            try ContainerState.single(from: String(repeating: "[", count: 100_000))
        }
    }
}
