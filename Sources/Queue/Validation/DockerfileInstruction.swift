/// One instruction of a Dockerfile, after line continuations are joined and
/// its heredocs read.
///
/// Public so the console can summarise a capability proposal as
/// "instructions added, removed, changed" instead of a raw text diff.
/// Compare ``keyword``, ``arguments`` and ``heredocs``; ``line`` moves when
/// anything above it changes.
public struct DockerfileInstruction: Sendable, Equatable {
    /// The instruction in upper case (`RUN`), whatever case the file used.
    public let keyword: String
    /// Everything after the keyword, with continuation lines joined the way
    /// BuildKit joins them (escape character and line break removed, comment
    /// lines inside the continuation dropped), blanks around it trimmed.
    public let arguments: String
    /// The heredocs the instruction opens, in order (empty for most).
    public let heredocs: [DockerfileHeredoc]
    /// The 1-based line the instruction starts on.
    public let line: Int

    /// An instruction `keyword arguments` starting at `line`.
    public init(keyword: String, arguments: String, heredocs: [DockerfileHeredoc] = [], line: Int) {
        self.keyword = keyword
        self.arguments = arguments
        self.heredocs = heredocs
        self.line = line
    }

    /// The instructions BuildKit knows, with the form each takes (for the
    /// message when one has no arguments).
    public static let usage: [String: String] = [
        "ADD": "ADD <source>... <destination>",
        "ARG": "ARG <name>[=<default>]",
        "CMD": "CMD [\"executable\", \"argument\"]",
        "COPY": "COPY <source>... <destination>",
        "ENTRYPOINT": "ENTRYPOINT [\"executable\", \"argument\"]",
        "ENV": "ENV <key>=<value>",
        "EXPOSE": "EXPOSE <port>[/<protocol>]",
        "FROM": "FROM <image> [AS <name>]",
        "HEALTHCHECK": "HEALTHCHECK [options] CMD <command>, or HEALTHCHECK NONE",
        "LABEL": "LABEL <key>=<value>",
        "MAINTAINER": "MAINTAINER <name>",
        "ONBUILD": "ONBUILD <instruction>",
        "RUN": "RUN <command>",
        "SHELL": "SHELL [\"executable\", \"argument\"]",
        "STOPSIGNAL": "STOPSIGNAL <signal>",
        "USER": "USER <user>[:<group>]",
        "VOLUME": "VOLUME <path>...",
        "WORKDIR": "WORKDIR <path>",
    ]

    /// The instructions that may open heredocs.
    static let heredocKeywords: Set<String> = ["RUN", "COPY", "ADD"]
}
