import Queue
import SystemPackage
import Testing

@testable import Apply

@Suite struct ReloadSettingsTests {
    let bottle = try! BottleSlug("web-1")

    @Test func readsCommandsAndTimeoutsPerFile() throws {
        let settings = try ReloadSettings.parse(
            """
            [reload.routes]
            command = ["podman", "kill", "--signal", "HUP", "{slug}-cred-proxy"]
            timeout = 5
            [reload.allowlist]
            [reload.dockerfile]
            commands = [["podman", "build", "-f", "{file}", "."], ["systemctl", "restart", "bottle@{slug}"]]
            timeout = 1.5
            """)
        #expect(
            settings.actions[.routes]
                == ReloadAction(
                    commands: [["podman", "kill", "--signal", "HUP", "{slug}-cred-proxy"]], timeout: .seconds(5)))
        #expect(settings.actions[.allowlist] == nil)  // empty table keeps the default
        #expect(settings.actions[.dockerfile]?.commands.count == 2)
        #expect(settings.actions[.dockerfile]?.timeout == .milliseconds(1500))
    }

    @Test func defaultsFollowTheEngine() {
        let engine = ContainerEngine("docker")
        let directory = FilePath("/srv/bottles/web-1")
        let settings = ReloadSettings()
        #expect(
            settings.action(for: .routes, bottle: bottle, directory: directory, engine: engine)
                .resolved(bottle: bottle, file: "/x") == [["docker", "kill", "--signal", "HUP", "web-1-cred-proxy"]])
        #expect(
            settings.action(for: .allowlist, bottle: bottle, directory: directory, engine: engine)
                .resolved(bottle: bottle, file: "/x") == [["docker", "restart", "web-1-pipelock"]])
        // The Dockerfile's default is the built-in replacement, not commands.
        let dockerfile = settings.action(for: .dockerfile, bottle: bottle, directory: directory, engine: engine)
        #expect(dockerfile.commands.isEmpty && dockerfile.timeout == .seconds(600))
        #expect(
            dockerfile.resolvedReplacement(bottle: bottle, file: "/srv/bottles/web-1/Dockerfile")
                == ContainerReplacement.Target(
                    container: "web-1", image: "localhost/web-1:supervise",
                    dockerfile: "/srv/bottles/web-1/Dockerfile", context: "/srv/bottles/web-1"))
    }

    @Test func replaceNamesTheContainerImageAndContext() throws {
        let directory = FilePath("/srv/bottles/web-1")
        let chosen = try ReloadSettings.parse(
            """
            [reload.dockerfile]
            replace = "agent-{slug}"
            image = "registry.local/{slug}:next"
            context = "/srv/src/{slug}"
            timeout = 120
            """)
        let action = chosen.action(for: .dockerfile, bottle: bottle, directory: directory, engine: .init("podman"))
        #expect(action.timeout == .seconds(120))
        #expect(
            action.resolvedReplacement(bottle: bottle, file: "/srv/bottles/web-1/Dockerfile")
                == ContainerReplacement.Target(
                    container: "agent-web-1", image: "registry.local/web-1:next",
                    dockerfile: "/srv/bottles/web-1/Dockerfile", context: "/srv/src/web-1"))
        let plain = try ReloadSettings.parse("[reload.dockerfile]\nreplace = true\n")
        let podman = ContainerEngine("podman")
        #expect(
            plain.action(for: .dockerfile, bottle: bottle, directory: directory, engine: podman)
                == ReloadSettings.defaultAction(for: .dockerfile, bottle: bottle, directory: directory, engine: podman))
    }

    @Test func substitutesOnlySlugAndFileInOnePass() {
        let action = ReloadAction(commands: [["run", "{slug}:{file}", "{other}", "{", "$(id)"]])
        let argv = action.resolved(bottle: bottle, file: "/cfg/{slug}/routes.json")
        #expect(argv == [["run", "web-1:/cfg/{slug}/routes.json", "{other}", "{", "$(id)"]])
    }

    @Test(arguments: [
        ("[reload.routez]\ncommand = [\"x\"]", "unknown table [reload.routez]"),
        ("[reload.routes]\ncmd = [\"x\"]", "unknown key reload.routes.cmd"),
        ("[reload.routes]\ncommand = \"podman kill\"", "must be an array of strings"),
        ("[reload.routes]\ncommand = []", "is empty"),
        ("[reload.routes]\ncommand = [\"x\"]\ntimeout = -1", "between 0 and 86400"),
        ("[reload.routes]\ntimeout = 3", "has a timeout but no command"),
        ("[engine]\nname = \"x\"", "unknown table [engine]"),
        ("[reload.routes\ncommand = [\"x\"]", "line 1"),
        ("[reload.dockerfile]\nreplace = true\ncommand = [\"x\"]", "has both replace and command(s)"),
        ("[reload.dockerfile]\nimage = \"x\"", "reload.dockerfile.image needs replace = true"),
        ("[reload.dockerfile]\nreplace = false", "give them in reload.dockerfile.commands"),
        ("[reload.dockerfile]\nreplace = 3", "reload.dockerfile.replace must be a non-empty string"),
        ("[reload.routes]\nreplace = true", "reload.routes.replace is only for [reload.dockerfile]"),
        ("[reload.dockerfile]\nreplce = true", "expected replace, image, context, build_network, allow_new_privileges, command, commands or timeout"),
    ])
    func refusesWhatItCannotUse(text: String, expected: String) {
        #expect {
            _ = try ReloadSettings.parse(text)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func engineFromFlagThenEnvironmentThenPath() {
        #expect(
            ContainerEngine.resolve(flag: "docker", environment: ["SUPERVISE_ENGINE": "podman"]).program == "docker")
        #expect(ContainerEngine.resolve(environment: ["SUPERVISE_ENGINE": "nerdctl"]).program == "nerdctl")
        #expect(ContainerEngine.resolve(environment: ["PATH": "/nonexistent"]).program == "docker")
    }
}
