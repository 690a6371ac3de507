import Queue

/// How a bottle's container is configured, read from the engine's `inspect`
/// of the container and of the image it was created from, and turned back
/// into `create` arguments for its replacement.
///
/// The rule, after container updaters such as Watchtower, with one change for
/// the bottle's sandbox:
/// - what the operator gave the container (name, networks and aliases, mounts
///   and volumes, published ports, capabilities, security options, devices,
///   resources, restart policy, hostname, and every environment variable,
///   label, command, entrypoint or working directory that differs from the
///   old image's) is carried over as it is;
/// - a value that is exactly the old image's default (an `ENV` or `LABEL`
///   line, `CMD`, `ENTRYPOINT`, `WORKDIR`) or the engine's own addition
///   (`container=podman`, `HOSTNAME`, the default `PATH`, the short id as
///   hostname or alias) is dropped, so the new image's default applies;
/// - the **user** is pinned as the engine reports it: whatever user the
///   container runs as now — given with `--user` or inherited from the old
///   image's `USER` — the new one runs as too, so a `USER root` line does not
///   make a non-root bottle root. The pin is the name or number the engine
///   reports, though: a *name* is looked up again in the new image's
///   `/etc/passwd`, and groups come from its `/etc/group` (docs/security.md
///   lists what this leaves open).
///
/// Settings the engine reports but a replacement cannot faithfully carry
/// (a pod, a mount path holding `:` or `,`, an inline seccomp profile, an
/// unknown mount type, an OCI runtime other than runc or crun, a private
/// user namespace) are refused with a reason before anything changes.
struct ContainerSpec: Sendable, Equatable {
    /// The container's full id (the replacement addresses it by id, never by a reusable name).
    var id: String
    /// Its name without a leading `/`.
    var name: String
    /// The id of the image it was created from (not its tag, which the build moves).
    var imageID: String
    /// Whether it is running now.
    var running: Bool
    /// How long the engine gives it to stop (`--stop-timeout`), when it reports one.
    var stopTimeout: Int64?
    /// `--entrypoint`, when it differs from the old image's.
    var entrypoint: [String]?
    /// The command after the image, when it differs from the old image's (or the entrypoint is explicit).
    var command: [String]?
    /// Everything before the image reference except networks: `--flag=value` words.
    var options: [String]
    /// The first network (with `--network=` and aliases in ``options``) and the rest, joined after create.
    var extraNetworks: [NetworkAttachment]
    /// The host pid of the container's process while it runs: its
    /// `/proc/<pid>/status` says which uid and gid it really runs as.
    var pid: Int64?
    /// The `--user` the engine reports (a name or numbers), `nil` for none:
    /// replaced by the process's numbers (``pinningUser(toProcessStatus:)``).
    var configuredUser: String?
    /// Whether it runs with `no-new-privileges`.
    var noNewPrivileges: Bool
    /// The first network it is on by name, for a build on the bottle's own egress (`nil`: host, none or another mode).
    var primaryNetwork: String? { options.first { $0.hasPrefix("--network=") }.map { String($0.dropFirst(10)) }.flatMap { Self.isSpecialNetworkMode($0) ? nil : $0 } }
    /// The proxy settings in its environment (`HTTP_PROXY=…`), passed to a build on the bottle's egress.
    var proxyEnvironment: [String]
    /// The environment entries and labels carried as the operator's (`env:K=V`, `label:K=V`):
    /// the next replacement's baseline (``ReplacementBaseline``).
    var operatorSettings: [String]

    /// A network the container is on, with the aliases the operator gave it.
    struct NetworkAttachment: Sendable, Equatable {
        var name: String
        var aliases: [String]
    }

    /// Why a container cannot be replaced from its inspected configuration.
    enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// A field of the wrong type or missing.
        case field(EngineFieldError)
        /// A setting the replacement cannot carry; the text says which.
        case unsupported(String)

        var description: String {
            switch self {
            case .field(let error): error.description
            case .unsupported(let what): "cannot recreate the container: \(what)"
            }
        }
    }

    /// The engine's usual default `PATH`, added when an image sets none.
    static let enginePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Reads a container's configuration from `container` (one element of
    /// `inspect`'s array) and `image` (one element of `image inspect` of its image id).
    init(container: JSONValue, image: JSONValue, baseline: Set<String> = []) throws(Problem) {
        do {
            try self.init(
                reading: InspectedObject(container, path: ""), image: InspectedObject(image, path: "image"),
                baseline: baseline)
        } catch let error as EngineFieldError {
            throw .field(error)
        } catch let error as Problem {
            throw error
        } catch {
            throw .unsupported("\(error)")
        }
    }

    private init(reading container: InspectedObject, image: InspectedObject, baseline: Set<String>) throws {
        guard let id = try container.string("Id"), !id.isEmpty else {
            throw EngineFieldError(field: "Id", expected: "a container id")
        }
        guard var name = try container.string("Name"), !name.isEmpty else {
            throw EngineFieldError(field: "Name", expected: "a container name")
        }
        if name.hasPrefix("/") { name.removeFirst() }  // docker reports "/name"
        guard let imageID = try container.string("Image"), !imageID.isEmpty else {
            throw EngineFieldError(field: "Image", expected: "an image id")
        }
        if let pod = try container.string("Pod"), !pod.isEmpty {
            throw Problem.unsupported("it runs in pod \(pod); replace it with [reload.dockerfile] commands")
        }
        let config = try container.object("Config") ?? InspectedObject(.object([]), path: "Config")
        let host = try container.object("HostConfig") ?? InspectedObject(.object([]), path: "HostConfig")
        let podmanAutoRemove = try (config.stringMap("Annotations") ?? []).contains {
            $0.key == "io.podman.annotations.autoremove" && $0.value == "TRUE"
        }
        if try host.bool("AutoRemove") ?? false || podmanAutoRemove {
            throw Problem.unsupported(
                "it was started with --rm, so stopping it would delete it and leave nothing to go back to "
                    + "if the new one fails; start the bottle without --rm, or use [reload.dockerfile] commands")
        }
        // The OCI runtime and a private user namespace are part of the sandbox
        // (gVisor's runsc, Kata; container root mapped to an unprivileged host
        // uid). A recreate would run under the engine's default runtime and,
        // for a user namespace podman reports only as "private", in the host's:
        // refused rather than silently weakened.
        let runtime = try container.string("OCIRuntime") ?? host.string("Runtime").flatMap { $0 == "oci" ? nil : $0 }
        if let runtime, !runtime.isEmpty, !Self.defaultRuntimes.contains(runtime) {
            throw Problem.unsupported(
                "it runs under the OCI runtime \(runtime), which a recreate would not keep; "
                    + "replace it with [reload.dockerfile] commands that pass --runtime")
        }
        let mapped = try host.object("IDMappings").map { $0.hasElements("UidMap") || $0.hasElements("GidMap") } ?? false
        if try host.string("UsernsMode") == "private" || mapped {
            throw Problem.unsupported(
                "it runs in a private user namespace whose mapping a recreate would not keep "
                    + "(it would run in the host's); replace it with [reload.dockerfile] commands that pass --userns or --uidmap")
        }
        let state = try container.object("State")
        let imageConfig = try image.object("Config") ?? InspectedObject(.object([]), path: "image.Config")
        let shortID = String(id.prefix(12))

        self.id = id
        self.name = name
        self.imageID = imageID
        self.running = try state?.bool("Running") ?? false
        let pid = try state?.integer("Pid") ?? 0
        self.pid = running && pid > 0 ? pid : nil
        // Docker-compatible APIs report 0 for "not set"; carrying it would make `stop` kill at once.
        self.stopTimeout = try config.integer("StopTimeout").flatMap { $0 > 0 ? $0 : nil }

        var options: [String] = []
        func flag(_ name: String, _ value: String) { options.append("--\(name)=\(value)") }

        // Identity.
        let hostname = try config.string("Hostname") ?? ""
        if !hostname.isEmpty, hostname != shortID { flag("hostname", hostname) }
        let configuredUser = try config.string("User").flatMap { $0.isEmpty ? nil : $0 }
        self.configuredUser = configuredUser
        if let configuredUser { flag("user", configuredUser) }
        if let workingDirectory = try config.string("WorkingDir"), !workingDirectory.isEmpty {
            let imageDirectory = try imageConfig.string("WorkingDir") ?? ""
            if workingDirectory != imageDirectory, !(imageDirectory.isEmpty && workingDirectory == "/") {
                flag("workdir", workingDirectory)
            }
        }

        // Environment: the container's, minus the old image's and the engine's own.
        let imageEnvironment = try imageConfig.strings("Env") ?? []
        let environment = try config.strings("Env") ?? []
        let isPodman = environment.contains("container=podman")
        self.proxyEnvironment = environment.filter {
            ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "FTP_PROXY", "ALL_PROXY"].contains(Self.key(of: $0).uppercased())
        }
        let imageKeys = Set(imageEnvironment.map { Self.key(of: $0) })
        var operatorSettings: [String] = []
        // An entry the baseline says the operator gave is theirs even when the old image has it
        // too: an agent cannot walk it away by first copying it into an ENV line, then deleting it.
        for entry in environment where !imageEnvironment.contains(entry) || baseline.contains("env:" + entry) {
            let key = Self.key(of: entry)
            if entry == "container=podman" { continue }
            if key == "HOSTNAME", entry == "HOSTNAME=\(hostname)" { continue }
            if entry == Self.enginePath, !imageKeys.contains("PATH") { continue }
            if isPodman, entry == "TERM=xterm", !imageKeys.contains("TERM") { continue }
            // `--env=NAME` without a value (or podman's `NAME*`) copies the *host's*
            // variable into the bottle: an inspected entry always has one, so refuse what doesn't.
            guard entry.contains("="), !key.isEmpty else {
                throw EngineFieldError(field: "Config.Env", expected: "NAME=value entries")
            }
            flag("env", entry)
            operatorSettings.append("env:" + entry)
        }

        // Labels: the container's, minus those the old image set to the same value.
        let imageLabels = try imageConfig.stringMap("Labels") ?? []
        for label in try config.stringMap("Labels") ?? []
        where !imageLabels.contains(where: { $0.key == label.key && $0.value == label.value })
            || baseline.contains("label:\(label.key)=\(label.value)")
        {
            flag("label", "\(label.key)=\(label.value)")
            operatorSettings.append("label:\(label.key)=\(label.value)")
        }

        // Command and entrypoint.
        let command = try config.strings("Cmd") ?? []
        let entrypoint = try Self.entrypoint(of: container, config: config, command: command)
        let imageEntrypoint = try imageConfig.strings("Entrypoint") ?? []
        let imageCommand = try imageConfig.strings("Cmd") ?? []
        if entrypoint != imageEntrypoint {
            // Docker clears the image's CMD when --entrypoint is given: the command goes with it.
            self.entrypoint = entrypoint
            self.command = command
        } else {
            self.entrypoint = nil
            self.command = command == imageCommand ? nil : command
        }

        // Restart policy.
        if let policy = try host.object("RestartPolicy"), let policyName = try policy.string("Name"),
            !policyName.isEmpty, policyName != "no"
        {
            let retries = try policy.integer("MaximumRetryCount") ?? 0
            flag("restart", policyName == "on-failure" && retries > 0 ? "on-failure:\(retries)" : policyName)
        }
        if let stopTimeout { flag("stop-timeout", String(stopTimeout)) }

        // Networks.
        let networkMode = try host.string("NetworkMode") ?? ""
        var attachments: [NetworkAttachment] = []
        if Self.isSpecialNetworkMode(networkMode) {
            flag("network", networkMode)
        } else {
            let settings = try container.object("NetworkSettings")
            for (networkName, value) in try settings?.members("Networks") ?? [] {
                let network = InspectedObject(value, path: "NetworkSettings.Networks.\(networkName)")
                let aliases = (try network.strings("Aliases") ?? []).filter {
                    $0 != shortID && $0 != id && $0 != name
                }
                attachments.append(NetworkAttachment(name: networkName, aliases: aliases))
            }
            if attachments.isEmpty, !networkMode.isEmpty, networkMode != "default" {
                attachments.append(NetworkAttachment(name: networkMode, aliases: []))
            }
        }
        if let first = attachments.first {
            flag("network", first.name)
            for alias in first.aliases { flag("network-alias", alias) }
        }
        self.extraNetworks = Array(attachments.dropFirst())

        // Published ports.
        for (port, value) in try host.members("PortBindings") {
            guard case .array(let bindings) = value else {
                throw EngineFieldError(field: "HostConfig.PortBindings.\(port)", expected: "an array")
            }
            for (index, binding) in bindings.enumerated() {
                let entry = InspectedObject(binding, path: "HostConfig.PortBindings.\(port)[\(index)]")
                let hostIP = try entry.string("HostIp") ?? ""
                let hostPort = try entry.string("HostPort") ?? ""
                let address = hostIP.contains(":") ? "[\(hostIP)]" : hostIP
                if address.isEmpty {
                    flag("publish", hostPort.isEmpty ? port : "\(hostPort):\(port)")
                } else {
                    flag("publish", "\(address):\(hostPort):\(port)")
                }
            }
        }

        // Mounts and volumes.
        let readOnlyRoot = try host.bool("ReadonlyRootfs") ?? false
        let tmpfs = try host.stringMap("Tmpfs") ?? []
        for mount in try container.objects("Mounts") {
            let type = try mount.string("Type") ?? ""
            let destination = try mount.string("Destination") ?? ""
            let mode = (try mount.bool("RW") ?? true) ? "rw" : "ro"
            switch type {
            case "bind":
                let source = try mount.string("Source") ?? ""
                try Self.checkMountPath(source, of: destination)
                try Self.checkMountPath(destination, of: destination)
                var mountOptions = [mode]
                let propagation = try mount.string("Propagation") ?? ""
                if ["shared", "slave", "rshared", "rslave"].contains(propagation) { mountOptions.append(propagation) }
                mountOptions += try Self.carriedMountOptions(mount, destination: destination)
                flag("volume", "\(source):\(destination):\(mountOptions.joined(separator: ","))")
            case "volume":
                let volume = try mount.string("Name") ?? ""
                guard !volume.isEmpty else {
                    throw EngineFieldError(field: mount.path + ".Name", expected: "a volume name")
                }
                try Self.checkMountPath(volume, of: destination)
                try Self.checkMountPath(destination, of: destination)
                flag("volume", "\(volume):\(destination):\(mode)")
            case "tmpfs":
                if !tmpfs.contains(where: { $0.key == destination }) { flag("tmpfs", destination) }
            default:
                throw Problem.unsupported(
                    "its mount at \(Escaped(destination)) is of type \(Escaped(type)), which is not carried over")
            }
        }
        for (destination, mountOptions) in tmpfs {
            // podman's --read-only adds these three itself; giving them again is refused as a duplicate.
            if isPodman, readOnlyRoot, ["/run", "/tmp", "/var/tmp"].contains(destination),
                mountOptions == "rw,rprivate,nosuid,nodev,tmpcopyup"
            {
                continue
            }
            flag("tmpfs", mountOptions.isEmpty ? destination : "\(destination):\(mountOptions)")
        }

        // Privileges and isolation.
        for capability in try host.strings("CapAdd") ?? [] { flag("cap-add", capability) }
        for capability in try host.strings("CapDrop") ?? [] { flag("cap-drop", capability) }
        var noNewPrivileges = false
        for option in try host.strings("SecurityOpt") ?? [] {
            if ["no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"].contains(option) {
                noNewPrivileges = true
            }
            if option.hasPrefix("seccomp={") || option.hasPrefix("seccomp:{") {
                throw Problem.unsupported(
                    "it runs with an inline seccomp profile; give the profile as a file in [reload.dockerfile] commands"
                )
            }
            flag("security-opt", option)
        }
        self.noNewPrivileges = noNewPrivileges
        if try host.bool("Privileged") ?? false { options.append("--privileged") }
        if readOnlyRoot { options.append("--read-only") }
        let podmanInit = try (config.stringMap("Annotations") ?? []).contains {
            $0.key == "io.podman.annotations.init" && $0.value == "TRUE"
        }
        if try host.bool("Init") ?? false || podmanInit { options.append("--init") }
        for device in try host.objects("Devices") {
            let onHost = try device.string("PathOnHost") ?? ""
            let inContainer = try device.string("PathInContainer") ?? onHost
            let permissions = try device.string("CgroupPermissions") ?? ""
            flag("device", permissions.isEmpty ? "\(onHost):\(inContainer)" : "\(onHost):\(inContainer):\(permissions)")
        }
        for (key, mode) in [("PidMode", "pid"), ("IpcMode", "ipc"), ("UTSMode", "uts")] {
            let value = try host.string(key) ?? ""
            if value == "host" || value.hasPrefix("container:") { flag(mode, value) }
        }
        if let userNamespace = try host.string("UsernsMode"), !userNamespace.isEmpty {
            flag("userns", userNamespace)
        }
        for entry in try host.strings("ExtraHosts") ?? [] { flag("add-host", entry) }
        for entry in try host.strings("Dns") ?? [] { flag("dns", entry) }
        for entry in try host.strings("DnsSearch") ?? [] { flag("dns-search", entry) }
        for entry in try host.strings("DnsOptions") ?? [] { flag("dns-option", entry) }
        for entry in try host.strings("GroupAdd") ?? [] { flag("group-add", entry) }

        // Resources.
        if let memory = try host.integer("Memory"), memory > 0 { flag("memory", String(memory)) }
        if let nanoCPUs = try host.integer("NanoCpus"), nanoCPUs > 0 {
            flag("cpus", "\(nanoCPUs / 1_000_000_000).\(String(format: "%09lld", nanoCPUs % 1_000_000_000))")
        }
        if let pids = try host.integer("PidsLimit"), pids > 0 { flag("pids-limit", String(pids)) }
        for (key, name) in [
            ("MemoryReservation", "memory-reservation"), ("MemorySwap", "memory-swap"), ("CpuShares", "cpu-shares"),
            ("CpuQuota", "cpu-quota"), ("CpuPeriod", "cpu-period"), ("BlkioWeight", "blkio-weight"),
            ("OomScoreAdj", "oom-score-adj"),
        ] {
            if let value = try host.integer(key), value != 0, !(key == "MemorySwap" && value < 0 && value != -1) {
                flag(name, String(value))
            }
        }
        if let swappiness = try host.integer("MemorySwappiness"), swappiness > 0 {
            flag("memory-swappiness", String(swappiness))
        }
        for key in ["CpusetCpus", "CpusetMems"] {
            if let value = try host.string(key), !value.isEmpty { flag(key == "CpusetCpus" ? "cpuset-cpus" : "cpuset-mems", value) }
        }
        if try host.bool("OomKillDisable") ?? false { options.append("--oom-kill-disable") }
        for key in ["BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps"]
        where host.hasElements(key) {
            throw Problem.unsupported(
                "it has per-device I/O limits (\(key)), which are not carried over; replace it with [reload.dockerfile] commands")
        }
        for ulimit in try host.objects("Ulimits") {
            guard let name = try ulimit.string("Name"), !name.isEmpty else {
                throw EngineFieldError(field: "HostConfig.Ulimits.Name", expected: "a limit name")
            }
            let soft = try ulimit.integer("Soft") ?? -1
            let hard = try ulimit.integer("Hard") ?? soft
            let short = name.hasPrefix("RLIMIT_") ? String(name.dropFirst(7)).lowercased() : name.lowercased()
            flag("ulimit", "\(short)=\(soft):\(hard)")
        }
        for (key, value) in try host.stringMap("Sysctls") ?? [] { flag("sysctl", "\(key)=\(value)") }
        let ipcMode = try host.string("IpcMode") ?? ""
        if let shm = try host.integer("ShmSize"), shm > 0, ipcMode != "host", !ipcMode.hasPrefix("container:") {
            flag("shm-size", String(shm))
        }

        // Terminal.
        if try config.bool("OpenStdin") ?? false { options.append("--interactive") }
        if try config.bool("Tty") ?? false { options.append("--tty") }

        self.options = options
        self.operatorSettings = operatorSettings
    }

    /// The `create` arguments (after the engine's program) for a container
    /// named `name` from `image` with this configuration.
    /// The runtimes a recreate may leave to the engine's default: the common
    /// ones, with the same isolation.
    static let defaultRuntimes: Set<String> = ["runc", "crun"]

    func createArguments(name: String, image: String) -> [String] {
        var arguments = ["create", "--name=\(name)"] + options
        var trailing = command ?? []
        if let entrypoint {
            arguments.append("--entrypoint=\(entrypoint.first ?? "")")
            trailing = Array(entrypoint.dropFirst()) + (command ?? [])
        }
        return arguments + [image] + trailing
    }

    /// The key of an environment entry `KEY=value`.
    static func key(of entry: String) -> Substring {
        entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    /// `host`, `none`, `container:…` and the rootless modes: the network is
    /// the mode itself, not a list of named networks.
    static func isSpecialNetworkMode(_ mode: String) -> Bool {
        ["host", "none", "slirp4netns", "pasta", "private"].contains(mode) || mode.hasPrefix("container:")
            || mode.hasPrefix("ns:") || mode.hasPrefix("slirp4netns:") || mode.hasPrefix("pasta:")
    }

    /// The entrypoint as an argument vector: Docker reports it as one; podman
    /// as a string joined by spaces, so it is taken from the process's
    /// argument vector (`Path` + `Args` = entrypoint + command) instead.
    private static func entrypoint(of container: InspectedObject, config: InspectedObject, command: [String]) throws
        -> [String]
    {
        if let list = try? config.strings("Entrypoint") { return list }  // try? flattens: absent reads as nil too
        if let joined = try config.string("Entrypoint"), joined.isEmpty { return [] }
        let path = try container.string("Path")
        let arguments = try container.strings("Args") ?? []
        let argv = path.map { [$0] + arguments } ?? arguments
        guard argv.count >= command.count, Array(argv.suffix(command.count)) == command else {
            throw Problem.unsupported("its entrypoint cannot be told apart from its command in the inspect output")
        }
        return Array(argv.dropLast(command.count))
    }

    /// The bind-mount options a replacement keeps (`nosuid`, `nodev`,
    /// `noexec`, SELinux relabelling); the engine's own (`rbind`, `rprivate`)
    /// are dropped; any other is refused, not silently lost.
    private static func carriedMountOptions(_ mount: InspectedObject, destination: String) throws -> [String] {
        let carried: Set<String> = ["nosuid", "nodev", "noexec", "suid", "dev", "exec", "z", "Z"]
        let engine: Set<String> = ["rbind", "bind", "rprivate", "private", "rw", "ro", "shared", "slave", "rshared", "rslave", ""]
        var options: [String] = []
        var written = try mount.strings("Options") ?? []
        written += (try mount.string("Mode") ?? "").split(separator: ",").map(String.init)
        for option in written where !engine.contains(option) {
            guard carried.contains(option) else {
                throw Problem.unsupported(
                    "its mount at \(Escaped(destination)) has the option \(Escaped(option)), which is not carried over")
            }
            if !options.contains(option) { options.append(option) }
        }
        return options
    }

    /// The real uid, gid and supplementary groups in a `/proc/<pid>/status` text.
    static func processIdentity(_ status: String) -> (uid: UInt32, gid: UInt32, groups: [UInt32])? {
        var uid: UInt32?, gid: UInt32?, groups: [UInt32] = []
        for line in status.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard let label = fields.first else { continue }
            switch label {
            case "Uid:": uid = fields.dropFirst().first.flatMap { UInt32($0) }
            case "Gid:": gid = fields.dropFirst().first.flatMap { UInt32($0) }
            case "Groups:": groups = fields.dropFirst().compactMap { UInt32($0) }
            default: break
            }
        }
        guard let uid, let gid else { return nil }
        return (uid, gid, groups)
    }

    /// These options with the user pinned to the numbers the old
    /// container's process runs as (read from `status`, its
    /// `/proc/<pid>/status`), so no `USER` line nor `/etc/passwd` of the new
    /// image decides who the bottle runs as. `/proc` shows the host's ids: for
    /// a container in a user namespace (rootless engines) they are turned
    /// back into the container's through `uidMap`/`gidMap` (the process's
    /// `/proc/<pid>/uid_map` and `gid_map`; `nil`: none readable, ids as they are).
    mutating func pinUser(toProcessStatus status: String, uidMap: String? = nil, gidMap: String? = nil) throws(Problem) {
        guard let identity = Self.processIdentity(status) else {
            throw .unsupported("the user its process runs as cannot be read from /proc (no Uid/Gid lines)")
        }
        guard let uid = Self.inside(identity.uid, map: uidMap), let gid = Self.inside(identity.gid, map: gidMap) else {
            throw .unsupported("its process runs as a uid or gid its user namespace's map does not cover")
        }
        options.removeAll { $0.hasPrefix("--user=") }
        options.append("--user=\(uid):\(gid)")
        let existing = Set(options.filter { $0.hasPrefix("--group-add=") })
        for hostGroup in identity.groups {
            guard let group = Self.inside(hostGroup, map: gidMap) else {
                throw .unsupported("its process has a group (\(hostGroup)) its user namespace's map does not cover")
            }
            if group != gid, !existing.contains("--group-add=\(group)") { options.append("--group-add=\(group)") }
        }
    }

    /// The id inside a user namespace of host id `id`, by a `uid_map`/`gid_map`
    /// text (`inside outside count` per line); `id` itself without a map.
    static func inside(_ id: UInt32, map: String?) -> UInt32? {
        guard let map else { return id }
        for line in map.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt64($0) }
            guard fields.count == 3 else { continue }
            let (inside, outside, count) = (fields[0], fields[1], fields[2])
            if UInt64(id) >= outside, UInt64(id) < outside + count { return UInt32(truncatingIfNeeded: inside + UInt64(id) - outside) }
        }
        return nil
    }

    /// A mount whose source or destination holds `:` or `,` cannot be given
    /// back to `--volume` without changing its meaning.
    private static func checkMountPath(_ path: String, of destination: String) throws {
        if path.isEmpty || path.contains(":") || path.contains(",") {
            throw Problem.unsupported(
                "its mount at \(Escaped(destination)) has a path with ':' or ',' (or none), which --volume cannot carry"
            )
        }
    }
}
