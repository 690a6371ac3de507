import ArgumentParser
import Console
import Queue
import SidecarCommandLine
import SystemPackage

/// `--settings` for the commands that read the operator's policy and preset
/// answers (`[[policy.rule]]`, `[answers]` in host.toml; docs/policy.md).
struct PolicyOptions: ParsableArguments {
    @Option(
        help: "The host settings file whose [answers] and [[policy.rule]] are used (default: $SUPERVISE_SETTINGS, then ~/.claude-bottle/host.toml)."
    )
    var settings: String?

    /// The settings file: the flag, then `$SUPERVISE_SETTINGS`, then `~/.claude-bottle/host.toml`.
    var settingsPath: FilePath { HostSettingsPath(flag: settings).path }

    /// A settings file named by `--settings` or `$SUPERVISE_SETTINGS` must exist: a typo must not
    /// read as "no preset answers, no rules" (``HostSettingsPath``).
    func validate() throws {
        do throws(Failure) {
            try HostSettingsPath(flag: settings).requireNamedFile()
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// `--answer`'s value must be a preset answer's name before anything is looked up (a usage
    /// error, 2); whether the settings file has that answer is checked when it is read (1).
    static func validate(answer: String?) throws {
        guard let answer, !Decision.isAnswerName(answer) else { return }
        throw ValidationError(
            "--answer \(Escaped(answer)) is not a preset answer's name: 1 to 64 ASCII letters, digits, '-', '_' "
                + "and '.', as named in [answers]")
    }

    /// The policy, or a failure (1) that names the file and what is wrong in it.
    func load() throws(Failure) -> HostPolicy {
        do {
            return try HostPolicy.load(settings: settingsPath)
        } catch {
            throw .failed("policy: \(error.message)")
        }
    }

    /// The text of preset answer `name`, combined with typed `notes` (the answer first).
    func notes(answer name: String?, notes: String) throws(Failure) -> String {
        guard let name else { return notes }
        let policy = try load()
        let text: String
        do throws(PolicyProblem) {
            text = try policy.answerText(name)
        } catch {
            throw .failed("--answer: \(error.message)")
        }
        let extra = notes.trimmingCharacters(in: .whitespacesAndNewlines)
        return extra.isEmpty ? text : text + "\n\n" + notes
    }
}
