import FileAccess
import Foundation
import Queue
import SystemPackage

/// Replaces a bottle's container with one created from a freshly built
/// image and the configuration the container runs with now — the default
/// reload action for an approved Dockerfile ("a replacement, not a restart").
///
/// The sequence, each step an engine command addressed by container id:
/// 1. `inspect` the container and `image inspect` the image it came from
///    (``ContainerSpec``: what to carry over); nothing is built for a
///    container that does not exist or cannot be carried over;
/// 2. `build` the new image from the approved Dockerfile, then inspect again
///    (a build takes minutes; what is carried over is read after it);
/// 3. `create` the new container under `<name>-next-<suffix>` (not started)
///    and `network connect` it to every further network, with its aliases;
/// 4. `stop` the old container, `rename` it to `<name>-old-<suffix>`,
///    `rename` the new one to `<name>`, `start` it — the name (and so the
///    DNS name on the bottle's networks) moves only when the old container
///    has let go of it, and a published port is free when the new one binds it;
/// 5. watch it: running, not restarting, for ``settle`` within ``startDeadline``;
/// 6. `rm` the old container (its anonymous volumes stay: the new one uses them).
///
/// A failure at 1–3 leaves the old container untouched and removes the new
/// one. A failure at 4–5 removes the new container, gives the old one its
/// name back and starts it again. A ``ReplacementJournal`` is written before
/// step 3 and at each phase, so a host process that dies midway is finished
/// by ``recover(journalPath:runner:timeout:)``, which brings the old container
/// back (or, when only its removal was left, keeps the new one).
struct ContainerReplacement: Sendable {
    /// What to build and which container to replace, placeholders already filled in.
    struct Target: Sendable, Equatable {
        /// The container to replace (its name).
        var container: String
        /// The tag the new image is built under.
        var image: String
        /// The approved Dockerfile.
        var dockerfile: String
        /// The build context directory.
        var context: String
        /// What the build's `RUN` steps may reach.
        var buildNetwork: ReloadAction.BuildNetwork = .bottle
        /// Whether a container that ran without `no-new-privileges` may keep doing so.
        var allowNewPrivileges = false
    }

    /// What the replacement did, for the apply outcome.
    struct Outcome: Sendable, Equatable {
        var succeeded: Bool
        /// One line: what was done, or what failed and what state the bottle is in.
        var summary: String
        /// The engine command that failed (or the last one run).
        var command: [String]?
        var exitStatus: Int32?
        /// The failing command's output tail (the build's on success).
        var outputTail: String?
    }

    let engine: String
    let target: Target
    let runner: any EngineCommandRunner
    let clock: any ReplacementClock
    let journalPath: FilePath
    /// How long the build may take.
    var buildTimeout: Duration
    /// How long any other engine command may take (a stop gets the container's stop timeout on top).
    var stepTimeout: Duration = .seconds(60)
    /// How long the new container must stay running before the old one is removed.
    var settle: Duration = .seconds(1)
    /// How long after `start` the new container has to be up for ``settle``.
    var startDeadline: Duration = .seconds(30)
    var pollInterval: Duration = .milliseconds(200)
    /// Makes the temporary names unique.
    var suffix: String = String(UInt32.random(in: 0...UInt32.max), radix: 16)

    var nextName: String { "\(target.container)-next-\(suffix)" }
    var parkedName: String { "\(target.container)-old-\(suffix)" }

    // MARK: - The sequence

    func run() -> Outcome {
        // 1. What runs now: a container that cannot be replaced is found before a long build.
        var spec: ContainerSpec
        switch inspectSpec() {
        case .success(let found): spec = found
        case .failure(let failure): return failure.outcome(suffix: "; nothing was built or changed")
        }

        // 2. Build: never with build-time privilege, on the network the operator chose,
        // and the new container is created from the image this build made (its id), not the tag.
        if let refusal = Self.buildPrivilegeRefusal(dockerfile: FilePath(target.dockerfile)) {
            return StepFailure(refusal, nil).outcome(suffix: "; nothing was built or changed")
        }
        let imageIDFile = journalPath.removingLastComponent().appending(".replacement-image-id")
        unlink(imageIDFile.string)
        let build = engineRun(buildArguments(spec, imageIDFile: imageIDFile), timeout: buildTimeout)
        guard build.succeeded else {
            return StepFailure("building \(target.image) failed", build)
                .outcome(suffix: "; the bottle's container was not touched")
        }
        let builtImage: String
        switch Self.readImageID(imageIDFile) {
        case .success(let id): builtImage = id
        case .failure(let failure): return failure.outcome(suffix: "; the bottle's container was not touched")
        }
        // The build can take minutes: what is carried over is read again now, not from before it
        // (the operator may have recreated the container, or it may have stopped, meanwhile).
        switch inspectSpec() {
        case .success(let found): spec = found
        case .failure(let failure): return failure.outcome(suffix: "; the bottle's container was not touched")
        }
        // The user is pinned by the numbers its process runs as, not by a name the new image's
        // /etc/passwd could map to 0; and no-new-privileges unless the operator keeps it off.
        if let pid = spec.pid {
            guard let status = runner.processFile(pid: pid, "status") else {
                return StepFailure(
                    "the user container \(spec.name) runs as cannot be read from /proc/\(pid)/status", nil)
                    .outcome(suffix: "; the bottle's container was not touched")
            }
            // A map that says "everything as it is" (the host's own namespace) changes nothing.
            let uidMap = runner.processFile(pid: pid, "uid_map")
            let gidMap = runner.processFile(pid: pid, "gid_map")
            do { try spec.pinUser(toProcessStatus: status, uidMap: uidMap, gidMap: gidMap) } catch {
                return StepFailure("container \(spec.name) cannot be replaced: \(error)", nil)
                    .outcome(suffix: "; the bottle's container was not touched")
            }
        }
        if !spec.noNewPrivileges, !target.allowNewPrivileges {
            spec.options.append("--security-opt=no-new-privileges")
        }

        // 3. Create, beside the old one.
        var journal = ReplacementJournal(
            engine: engine, name: spec.name, oldID: spec.id, oldWasRunning: spec.running, parkedName: parkedName,
            nextName: nextName, newID: nil, phase: .creating)
        do { try journal.write(to: journalPath) } catch {
            return StepFailure("could not write the replacement journal: \(error)", nil)
                .outcome(suffix: "; the bottle's container was not touched")
        }
        let created = engineRun(
            spec.createArguments(name: nextName, image: builtImage), timeout: stepTimeout, keepOutput: true)
        guard created.succeeded, let newID = Self.lastLine(created.standardOutput),
            newID.count >= 12, newID.allSatisfy(\.isHexDigit)
        else {
            _ = engineRun(["rm", "-f", nextName], timeout: stepTimeout)
            ReplacementJournal.remove(journalPath)
            return StepFailure("creating the new container failed", created)
                .outcome(suffix: "; the bottle's container was not touched")
        }
        journal.newID = newID
        for network in spec.extraNetworks {
            let connect = engineRun(
                ["network", "connect"] + network.aliases.map { "--alias=\($0)" } + [network.name, newID],
                timeout: stepTimeout)
            guard connect.succeeded else {
                _ = engineRun(["rm", "-f", newID], timeout: stepTimeout)
                ReplacementJournal.remove(journalPath)
                return StepFailure("connecting the new container to network \(network.name) failed", connect)
                    .outcome(suffix: "; the bottle's container was not touched")
            }
        }
        journal.phase = .swapping
        do { try journal.write(to: journalPath) } catch {
            _ = engineRun(["rm", "-f", newID], timeout: stepTimeout)
            ReplacementJournal.remove(journalPath)
            return StepFailure("could not write the replacement journal: \(error)", nil)
                .outcome(suffix: "; the bottle's container was not touched")
        }

        // 4. Swap: stop and park the old, name and start the new.
        var swap = Swap()
        if spec.running {
            let stop = engineRun(["stop", "-t", String(spec.stopTimeout ?? 10), spec.id], timeout: stopTimeout(spec))
            swap.stopped = true  // even a failed stop may have stopped it: the way back starts it again
            guard stop.succeeded else {
                return rollBack(
                    spec, newID: newID, swap: swap, failure: StepFailure("stopping the old container failed", stop))
            }
        }
        let park = engineRun(["rename", spec.id, parkedName], timeout: stepTimeout)
        guard park.succeeded else {
            return rollBack(
                spec, newID: newID, swap: swap, failure: StepFailure("renaming the old container failed", park))
        }
        swap.parked = true
        let rename = engineRun(["rename", newID, spec.name], timeout: stepTimeout)
        guard rename.succeeded else {
            return rollBack(
                spec, newID: newID, swap: swap, failure: StepFailure("renaming the new container failed", rename))
        }
        if spec.running {
            let start = engineRun(["start", newID], timeout: stepTimeout)
            guard start.succeeded else {
                return rollBack(
                    spec, newID: newID, swap: swap, failure: StepFailure("starting the new container failed", start))
            }
            // 5. It has to stay up.
            if let failure = watch(newID) { return rollBack(spec, newID: newID, swap: swap, failure: failure) }
        }

        // 6. The old container goes.
        journal.phase = .removingOld
        try? journal.write(to: journalPath)
        let remove = engineRun(["rm", spec.id], timeout: stepTimeout)
        ReplacementJournal.remove(journalPath)
        unlink(imageIDFile.string)
        // What was carried as the operator's is the next replacement's baseline.
        let baselineSaved: Bool
        do {
            try ReplacementBaseline.write(
                spec.operatorSettings, to: ReplacementBaseline.path(in: journalPath.removingLastComponent()))
            baselineSaved = true
        } catch {
            baselineSaved = false
        }
        var summary =
            "built \(target.image) and replaced container \(spec.name) (new id \(newID.prefix(12)), its settings carried over"
            + (spec.running ? ", running)" : "; not started, as the old one was not running)")
        if !baselineSaved {
            summary += "; the operator's baseline could not be saved (the next replacement judges settings without it)"
        }
        if !remove.succeeded {
            summary +=
                "; the old container \(parkedName) could not be removed (\(Self.reason(remove))): remove it by hand"
        }
        return Outcome(
            succeeded: true, summary: summary, command: build.command, exitStatus: build.exitStatus,
            outputTail: OutputTail.clip(build.outputTail))
    }

    // MARK: - The way back

    /// What step 4 has done to the old container, so the way back undoes exactly that.
    private struct Swap {
        var stopped = false
        var parked = false
    }

    /// Removes the new container, gives the old one its name back and starts
    /// it again. The journal stays when any of that fails, so the next host
    /// command tries again.
    private func rollBack(_ spec: ContainerSpec, newID: String, swap: Swap, failure: StepFailure) -> Outcome {
        var problems: [String] = []
        let remove = engineRun(["rm", "-f", newID], timeout: stopTimeout(spec))
        if !remove.succeeded { problems.append("removing the new container: \(Self.reason(remove))") }
        if swap.parked {
            let rename = engineRun(["rename", spec.id, spec.name], timeout: stepTimeout)
            if !rename.succeeded { problems.append("renaming the old container back: \(Self.reason(rename))") }
        }
        if swap.stopped {
            let start = engineRun(["start", spec.id], timeout: stepTimeout)
            if !start.succeeded { problems.append("starting the old container again: \(Self.reason(start))") }
        }
        guard problems.isEmpty else {
            return failure.outcome(
                suffix: "; putting the old container back failed too (\(problems.joined(separator: "; "))); "
                    + "the next bottle-supervise command tries again")
        }
        ReplacementJournal.remove(journalPath)
        return failure.outcome(
            suffix: swap.stopped
                ? "; the old container is running again" : "; the old container was left as it was")
    }

    // MARK: - Recovery

    /// What ``recover(journalPath:runner:timeout:)`` did.
    enum Recovery: Sendable, Equatable {
        /// The old container is back under its name (running, if it was); the new one is gone.
        case restoredOld(String)
        /// Only the old container's removal was left: the new one is the bottle.
        case keptNew(String)
        /// Both containers are gone and another one holds the name (replaced by hand): nothing to undo.
        case nothingLeft(String)
        /// The containers could not be put right; the journal stays for the next try.
        case failed(String)

        var summary: String {
            switch self {
            case .restoredOld(let text), .keptNew(let text), .nothingLeft(let text), .failed(let text): text
            }
        }
    }

    /// Finishes a replacement a crash cut off, from its journal: `nil` when there is none.
    static func recover(journalPath: FilePath, runner: any EngineCommandRunner, timeout: Duration = .seconds(30))
        -> Recovery?
    {
        let journal: ReplacementJournal
        do {
            guard let read = try ReplacementJournal.read(journalPath) else { return nil }
            journal = read
        } catch {
            return .failed(
                "the replacement journal \(journalPath) cannot be read (\(error)); check the bottle's containers")
        }
        func run(_ arguments: [String], keepOutput: Bool = false) -> ReloadRun {
            runner.run([journal.engine] + arguments, timeout: timeout, keepOutput: keepOutput)
        }
        func state(_ id: String) -> ContainerState? {
            let inspect = run(["inspect", "--type", "container", id], keepOutput: true)
            guard inspect.succeeded, !inspect.standardOutputOverflowed,
                let value = try? ContainerState.single(from: inspect.standardOutput)
            else { return nil }
            return try? ContainerState(value)
        }
        var problems: [String] = []
        let result: Recovery
        if journal.phase == .removingOld, let newID = journal.newID, let new = state(newID), new.running || !journal.oldWasRunning {
            // The new container had taken over; only the old one's removal was cut off.
            if new.name != journal.name {
                let rename = run(["rename", newID, journal.name])
                if !rename.succeeded { problems.append("renaming the new container: \(reason(rename))") }
            }
            var removedOld = false
            if state(journal.oldID) != nil {
                let remove = run(["rm", "-f", journal.oldID])
                removedOld = remove.succeeded
                if !remove.succeeded { problems.append("removing the old container: \(reason(remove))") }
            }
            result = .keptNew(
                "the interrupted replacement of container \(journal.name) was finished: the new container "
                    + (journal.oldWasRunning ? "runs" : "is in place") + (removedOld ? " and the old one is removed" : ""))
        } else if let old = state(journal.oldID), journal.phase == .creating {
            // Cut off while creating: the old container was never stopped nor renamed. Only the new one goes.
            let remove = run(["rm", "-f", journal.newID ?? journal.nextName])
            if !remove.succeeded, journal.newID.flatMap(state) != nil {
                problems.append("removing the new container: \(reason(remove))")
            }
            result = .restoredOld(
                "the interrupted replacement of container \(journal.name) was undone before it touched the old "
                    + "container" + (old.running ? ", which runs" : ""))
        } else if let old = state(journal.oldID) {
            let remove = run(["rm", "-f", journal.newID ?? journal.nextName])
            if !remove.succeeded, journal.newID.flatMap(state) != nil {
                problems.append("removing the new container: \(reason(remove))")
            }
            if old.name != journal.name {
                let rename = run(["rename", journal.oldID, journal.name])
                if !rename.succeeded { problems.append("renaming the old container back: \(reason(rename))") }
            }
            if journal.oldWasRunning, !old.running {
                let start = run(["start", journal.oldID])
                if !start.succeeded { problems.append("starting the old container: \(reason(start))") }
            }
            result = .restoredOld(
                "the interrupted replacement of container \(journal.name) was undone: the old container "
                    + (journal.oldWasRunning ? "runs again" : "is back"))
        } else if let newID = journal.newID, let new = state(newID) {
            if new.name != journal.name {
                let rename = run(["rename", newID, journal.name])
                if !rename.succeeded { problems.append("renaming the new container: \(reason(rename))") }
            }
            if journal.oldWasRunning, !new.running {
                let start = run(["start", newID])
                if !start.succeeded { problems.append("starting the new container: \(reason(start))") }
            }
            result = .keptNew(
                "the interrupted replacement of container \(journal.name) was finished: the new container "
                    + (journal.oldWasRunning ? "runs" : "is in place"))
        } else if let other = state(journal.name) {
            // Both of ours are gone and another container holds the name: someone replaced the
            // bottle by hand. Nothing of ours is left to undo; keeping the journal would retry forever.
            result = .nothingLeft(
                "the interrupted replacement of container \(journal.name) left nothing to undo: both its "
                    + "containers are gone and container \(other.id.prefix(12)) holds the name now")
        } else {
            return .failed(
                "neither the old container \(journal.oldID.prefix(12)) nor the new one of \(journal.name) can be "
                    + "inspected; check the engine and the bottle's containers")
        }
        guard problems.isEmpty else {
            return .failed(
                "finishing the interrupted replacement of container \(journal.name) failed ("
                    + problems.joined(separator: "; ") + "); the next bottle-supervise command tries again")
        }
        ReplacementJournal.remove(journalPath)
        return result
    }

    // MARK: - The build

    /// The `build` arguments: tag, image-id file, network, the bottle's proxy settings on its own egress.
    func buildArguments(_ spec: ContainerSpec, imageIDFile: FilePath) -> [String] {
        var arguments = ["build", "-t", target.image, "--iidfile", imageIDFile.string]
        switch target.buildNetwork {
        case .none:
            arguments.append("--network=none")
        case .host:
            arguments.append("--network=host")
        case .bottle:
            if let network = spec.primaryNetwork {
                arguments.append("--network=\(network)")
                // The proxy variables are Docker's and podman's predefined build arguments: they
                // reach RUN steps without being written into the image's history.
                arguments += spec.proxyEnvironment.map { "--build-arg=\($0)" }
            } else {
                arguments.append("--network=none")  // a bottle on host/none networking: no egress of its own
            }
        }
        return arguments + ["-f", target.dockerfile, target.context]
    }

    /// Why the approved Dockerfile must not be built, whatever `build_network`
    /// says: a `RUN --network=host` or `RUN --security=insecure` step, or an
    /// `ONBUILD RUN` with one (read by the same flag parser as the risk
    /// hints); `nil` to build. A file
    /// that is missing is left to the build to report.
    static func buildPrivilegeRefusal(dockerfile: FilePath) -> String? {
        let data: Data?
        do { data = try AtomicFile.read(dockerfile, limit: 4 << 20, regularOnly: true) } catch {
            return "the approved Dockerfile \(dockerfile) cannot be read: \(error)"
        }
        guard let data else { return nil }
        let document: DockerfileDocument
        do { document = try DockerfileDocument.parse(String(decoding: data, as: UTF8.self)) } catch {
            return "the Dockerfile at \(dockerfile) no longer validates (\(error.problems.first?.message ?? "")); it is not built"
        }
        // An `ONBUILD RUN` does not run in this build, but in every build FROM the image
        // this one makes: the image would carry the privilege past this refusal.
        for instruction in document.instructions {
            guard let run = instruction.keyword == "RUN" ? instruction : instruction.onbuildTrigger, run.keyword == "RUN"
            else { continue }
            let how = instruction.keyword == "ONBUILD" ? "ONBUILD RUN" : "RUN"
            for flag in run.flags {
                let value = (flag.value ?? "").lowercased()
                if flag.name == "network" || flag.name == "security", value.contains("$") {
                    return "line \(instruction.line) takes \(how) --\(flag.name) from a variable (\(Escaped(flag.value ?? ""))), "
                        + "which could expand to host or insecure; the replacement builds only a value written out"
                }
                if flag.name == "network", value == "host" {
                    return "line \(instruction.line) has \(how) --network=host, which the replacement never builds "
                        + "(it would reach the host's network whatever build_network says)"
                }
                if flag.name == "security", value == "insecure" {
                    return "line \(instruction.line) has \(how) --security=insecure, which the replacement never builds "
                        + "(a privileged build step is root on the host)"
                }
            }
        }
        return nil
    }

    /// The image id the build wrote with `--iidfile` (`sha256:` removed).
    static func readImageID(_ path: FilePath) -> Result<String, StepFailure> {
        let data: Data?
        do { data = try AtomicFile.read(path, limit: 4096, regularOnly: true) } catch {
            return .failure(StepFailure("the built image's id cannot be read from \(path): \(error)", nil))
        }
        var text = String(decoding: data ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("sha256:") { text.removeFirst(7) }
        guard text.count == 64, text.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            return .failure(
                StepFailure("the build wrote no image id to \(path) (found \(Escaped(String(text.prefix(80)))))", nil))
        }
        return .success(text)
    }

    // MARK: - Steps

    /// A step that failed, and the command that failed it.
    struct StepFailure: Error {
        var what: String
        var run: ReloadRun?

        init(_ what: String, _ run: ReloadRun?) {
            self.what = what
            self.run = run
        }

        func outcome(suffix: String) -> Outcome {
            let because = run.map { ": " + ContainerReplacement.reason($0) } ?? ""
            return Outcome(
                succeeded: false, summary: what + because + suffix, command: run?.command,
                exitStatus: run?.exitStatus, outputTail: run.flatMap { OutputTail.clip($0.outputTail) })
        }
    }

    private func engineRun(_ arguments: [String], timeout: Duration, keepOutput: Bool = false) -> ReloadRun {
        runner.run([engine] + arguments, timeout: timeout, keepOutput: keepOutput)
    }

    private func stopTimeout(_ spec: ContainerSpec) -> Duration {
        stepTimeout + .seconds(spec.stopTimeout ?? 10)
    }

    /// The container and the image it came from, read and turned into a ``ContainerSpec``.
    private func inspectSpec() -> Result<ContainerSpec, StepFailure> {
        let container = engineRun(
            ["inspect", "--type", "container", target.container], timeout: stepTimeout, keepOutput: true)
        guard container.succeeded else {
            return .failure(StepFailure("there is no container \(target.container) to replace", container))
        }
        let containerValue: JSONValue
        do { containerValue = try Self.single(container) } catch {
            return .failure(StepFailure("reading inspect of container \(target.container) failed: \(error)", nil))
        }
        let imageID: String
        do {
            guard let id = try InspectedObject(containerValue, path: "").string("Image"), !id.isEmpty else {
                throw EngineFieldError(field: "Image", expected: "an image id")
            }
            imageID = id
        } catch {
            return .failure(StepFailure("reading inspect of container \(target.container) failed: \(error)", nil))
        }
        let image = engineRun(["image", "inspect", imageID], timeout: stepTimeout, keepOutput: true)
        guard image.succeeded else {
            return .failure(StepFailure("inspecting the image of container \(target.container) failed", image))
        }
        do {
            let baselinePath = ReplacementBaseline.path(in: journalPath.removingLastComponent())
            let baseline: Set<String>
            do { baseline = try ReplacementBaseline.read(baselinePath) } catch {
                return .failure(
                    StepFailure(
                        "the operator's baseline \(baselinePath) cannot be read (\(error)); remove it to start a new one", nil))
            }
            return .success(try ContainerSpec(container: containerValue, image: try Self.single(image), baseline: baseline))
        } catch {
            return .failure(StepFailure("container \(target.container) cannot be replaced: \(error)", nil))
        }
    }

    /// Watches the new container until it has run for ``settle`` without a
    /// restart; `nil` when it did, else why not.
    private func watch(_ id: String) -> StepFailure? {
        let deadline = clock.now + startDeadline
        var upSince: Duration?
        var restarts: Int64?
        while true {
            let inspect = engineRun(["inspect", "--type", "container", id], timeout: stepTimeout, keepOutput: true)
            guard inspect.succeeded else { return StepFailure("the new container could not be inspected", inspect) }
            let state: ContainerState
            do { state = try ContainerState(try Self.single(inspect)) } catch {
                return StepFailure("reading inspect of the new container failed: \(error)", nil)
            }
            let now = clock.now
            if state.running, !state.restarting, restarts == nil || restarts == state.restartCount {
                restarts = state.restartCount
                if let since = upSince, now - since >= settle { return nil }
                if upSince == nil { upSince = now }
            } else if !state.running, !state.restarting {
                let logs = engineRun(["logs", "--tail", "5", id], timeout: stepTimeout)
                var failure = StepFailure(
                    "the new container stopped within \(ReloadRun.seconds(settle)) of starting "
                        + "(\(state.status), exit code \(state.exitCode ?? -1))"
                        + (state.error.map { ": " + OutputTail.summaryLine($0) } ?? ""), nil)
                if state.error == nil, let line = Self.lastLine(logs.outputTail) {
                    failure.what += ": " + OutputTail.summaryLine(line)
                }
                return failure
            } else {
                upSince = nil
                restarts = state.restartCount
            }
            if now >= deadline {
                return StepFailure(
                    "the new container did not stay running for \(ReloadRun.seconds(settle)) within "
                        + "\(ReloadRun.seconds(startDeadline))", nil)
            }
            // Up: look again when the settle time is over (each inspect is a process, ~0.1 s);
            // not up yet: poll.
            let remaining = upSince.map { settle - (now - $0) } ?? pollInterval
            clock.sleep(for: min(max(remaining, pollInterval), deadline - now))
        }
    }

    // MARK: - Text

    private static func single(_ run: ReloadRun) throws -> JSONValue {
        guard !run.standardOutputOverflowed else {
            throw EngineFieldError(field: "the output", expected: "under \(ProcessEngineRunner.outputLimit) bytes")
        }
        return try ContainerState.single(from: run.standardOutput)
    }

    /// Why a command failed, for the summary: how it ended and the last line
    /// it printed (``ReloadRun/failureReason``, one wording for every reload).
    static func reason(_ run: ReloadRun) -> String {
        run.failureReason ?? "\(run.command.first ?? "") succeeded"
    }

    /// The last non-empty line of `text`, without surrounding white space.
    static func lastLine(_ text: String) -> String? {
        text.split(whereSeparator: \.isNewline).reversed()
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty }
    }
}
