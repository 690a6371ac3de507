import Apply
import ArgumentParser
import Console
import Fleet
import Foundation
import Queue
import SidecarCommandLine

/// `bottle-supervise modify ID (--file F | --edit)`: approve a changed version.
struct Modify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Approve a changed version of a proposal, then apply it.",
        discussion: """
            --file takes the new version from a file; --edit opens $VISUAL or $EDITOR on the proposed file. \
            The new version is validated like the agent's, and the agent is sent the final file. A version \
            identical to the proposal is not a modification: --edit on a terminal asks whether to approve it \
            as proposed; otherwise nothing is decided (exit 1). Exit status as for approve.
            """
    )

    @Argument(help: "The proposal id (from `list`).")
    var id: String

    @Option(help: "The file to approve instead of the proposed one.")
    var file: String?

    @Flag(help: "Edit the proposed file in $VISUAL or $EDITOR.")
    var edit = false

    @Option(help: "Notes for the agent.")
    var notes: String = ""

    @Option(help: "A preset answer from [answers] in the settings file: its text is the notes, its name reaches the agent.")
    var answer: String?

    @Flag(help: "Apply even though the bottle's file changed since the proposal was made.")
    var force = false

    @OptionGroup var grant: GrantOptions

    @OptionGroup var binding: ReviewBindingOptions

    @OptionGroup var locations: HostLocationOptions

    @OptionGroup var apply: ApplyOptions

    @OptionGroup var policy: PolicyOptions

    @OptionGroup var fleet: FleetDatabaseOptions

    @OptionGroup var fleetHost: FleetHostOption

    @OptionGroup var fleetWait: FleetWaitOption

    func validate() throws {
        try PolicyOptions.validate(answer: answer)
        try FleetDecision.validate(
            database: fleet.database, host: fleetHost.host != nil,
            hostOnly: ["--force": force, "--for": grant.duration != nil, "--edit": edit])
        guard (file != nil) != edit else {
            throw ArgumentParser.ValidationError("give exactly one of --file F or --edit")
        }
        if let file {
            var info = stat()
            guard stat(file, &info) == 0 else {
                throw ArgumentParser.ValidationError(
                    "--file \(Escaped(file)): \(String(cString: strerror(errno))); give the file to approve instead")
            }
            guard (info.st_mode & S_IFMT) == S_IFREG else {
                throw ArgumentParser.ValidationError("--file \(Escaped(file)) is not a regular file")
            }
        }
    }

    func run() async throws {
        if let database = try fleet.settings(), let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw Failure.failed("cannot read \(Escaped(file))")
            }
            let content = String(decoding: data, as: UTF8.self)
            var decision = FleetDecision(database: database, host: fleetHost.host?.name, wait: .seconds(fleetWait.wait))
            decision.threshold = try FleetDecision.thresholdSetting(at: policy.settingsPath)
            try await decision.decide(
                id,
                .init(
                    status: .modified, notes: try policy.notes(answer: answer, notes: notes), answer: answer,
                    finalFile: { row in try FleetDecision.modified(content, of: row) }),
                expectedSHA256: binding.expectSHA256?.hex)
            return
        }
        try locations.requireQueueRoot()
        try locations.requireConfigRoot()
        await locations.endOverdueGrants(command: "modify", engine: apply.containerEngine)
        locations.finishInterruptedApplies(command: "modify")
        let lookup = ProposalLookup(locations: locations, engine: apply.containerEngine)
        let (entry, queue) = try lookup.findForDecision(id, expectedSHA256: binding.expectSHA256?.hex)
        try lookup.requirePending(entry)
        let proposal = entry.proposal
        let notes = try policy.notes(answer: answer, notes: notes)
        let current = lookup.currentFile(for: proposal)
        let content: String
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw Failure.failed("cannot read \(Escaped(file))")
            }
            content = String(decoding: data, as: UTF8.self)
        } else {
            do {
                content = try Editor.edit(proposal.proposedFile, fileName: proposal.tool.configFile.fileName)
            } catch {
                throw Failure.failed("\(error)")
            }
        }
        do throws(Queue.ValidationError) {
            try ProposedFileValidator.validate(content, for: proposal.tool, current: current)
        } catch {
            throw Failure.failed("the modified file does not validate:\n\(error)")
        }
        // The proposal unchanged is not a modification: on a terminal, offer to approve it as proposed
        // (recorded as `approved`); otherwise nothing is decided.
        if content == proposal.proposedFile {
            guard edit, isatty(STDIN_FILENO) == 1 else {
                throw Failure.failed(
                    "the \(edit ? "edited" : "given") file is the proposal unchanged: nothing was decided; "
                        + "to approve it as proposed, run `bottle-supervise approve \(proposal.id)`")
            }
            print("You changed nothing. Approve the proposal as proposed? [y/N] ", terminator: "")
            guard readLine()?.lowercased().hasPrefix("y") == true else {
                print("nothing decided")
                return
            }
            let decision = try await lookup.deciding {
                try await lookup.applier.apply(
                    decision: ProposalLookup.decision(on: entry, .approved, notes: notes),
                    proposal: proposal, queue: queue, force: force)
            }
            try lookup.report(decision, of: proposal)
            return
        }
        if edit {
            var changed = proposal
            changed.proposedFile = content
            print(
                ProposalReview(proposal: changed, currentFile: current).render(color: useColor()).joined(
                    separator: "\n"))
            if isatty(STDIN_FILENO) == 1 {
                print("Approve this version? [y/N] ", terminator: "")
                guard readLine()?.lowercased().hasPrefix("y") == true else {
                    print("nothing decided")
                    return
                }
            }
        }
        let decision = try await lookup.deciding {
            try await lookup.applier.apply(
                decision: ProposalLookup.decision(on: entry, .modified, notes: notes, finalFile: content, answer: answer),
                proposal: proposal, queue: queue, force: force, grant: grant.request)
        }
        try lookup.report(decision, of: proposal)
    }
}
