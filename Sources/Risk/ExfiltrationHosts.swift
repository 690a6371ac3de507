import Queue

/// Services commonly used to move data out of a sandbox: paste sites, file
/// drops, tunnels to the open internet, and request bins that record whatever
/// is sent to them.
///
/// An agent that asks for one of these may have an honest reason (a tunnel
/// for a demo), but every one of them is also a ready-made place to send a
/// repository or a token, so a proposal that reaches one is hinted critical.
/// Matched on the domain and every name under it.
enum ExfiltrationHosts {
    /// Domain → what kind of service it is (said in the hint).
    static let services: [String: String] = [
        // Paste sites and file drops.
        "pastebin.com": "a paste site", "paste.ee": "a paste site", "hastebin.com": "a paste site",
        "hastebin.skyra.pw": "a paste site", "dpaste.com": "a paste site", "dpaste.org": "a paste site",
        "ghostbin.com": "a paste site", "ghostbin.co": "a paste site", "rentry.co": "a paste site",
        "rentry.org": "a paste site", "termbin.com": "a paste site", "ix.io": "a paste site",
        "sprunge.us": "a paste site", "paste.rs": "a paste site", "privatebin.net": "a paste site",
        "controlc.com": "a paste site", "justpaste.it": "a paste site",
        "transfer.sh": "a file drop", "file.io": "a file drop", "0x0.st": "a file drop",
        "tmpfiles.org": "a file drop", "temp.sh": "a file drop", "filebin.net": "a file drop",
        "gofile.io": "a file drop", "wetransfer.com": "a file drop", "catbox.moe": "a file drop",
        "anonfiles.com": "a file drop", "bashupload.com": "a file drop", "oshi.at": "a file drop",
        // Tunnels from the internet (or out to it).
        "ngrok.io": "a tunnel service", "ngrok.app": "a tunnel service", "ngrok-free.app": "a tunnel service",
        "ngrok.dev": "a tunnel service", "trycloudflare.com": "a tunnel service",
        "loca.lt": "a tunnel service", "localtunnel.me": "a tunnel service", "serveo.net": "a tunnel service",
        "localhost.run": "a tunnel service", "lhr.life": "a tunnel service", "pagekite.me": "a tunnel service",
        "telebit.cloud": "a tunnel service", "bore.pub": "a tunnel service", "tunnelmole.net": "a tunnel service",
        "playit.gg": "a tunnel service", "zrok.io": "a tunnel service",
        // Request bins and out-of-band interaction catchers.
        "webhook.site": "a request bin", "requestbin.com": "a request bin", "requestbin.net": "a request bin",
        "pipedream.net": "a request bin", "requestcatcher.com": "a request bin", "beeceptor.com": "a request bin",
        "hookbin.com": "a request bin", "postb.in": "a request bin", "ptsv2.com": "a request bin",
        "ptsv3.com": "a request bin", "mockbin.org": "a request bin", "requestinspector.com": "a request bin",
        "burpcollaborator.net": "an out-of-band interaction catcher", "oastify.com": "an out-of-band interaction catcher",
        "interact.sh": "an out-of-band interaction catcher", "oast.fun": "an out-of-band interaction catcher",
        "oast.pro": "an out-of-band interaction catcher", "oast.live": "an out-of-band interaction catcher",
        "oast.site": "an out-of-band interaction catcher", "oast.online": "an out-of-band interaction catcher",
        "oast.me": "an out-of-band interaction catcher", "canarytokens.com": "an out-of-band interaction catcher",
        "dnslog.cn": "an out-of-band interaction catcher", "ceye.io": "an out-of-band interaction catcher",
    ]

    /// The listed domain `host` is or lies under, with its kind; `nil` if none.
    static func match(_ host: String) -> (domain: String, kind: String)? {
        var name = Substring(host.lowercased())
        if name.hasPrefix("*.") { name = name.dropFirst(2) }
        while true {
            if let kind = services[String(name)] { return (String(name), kind) }
            guard let dot = name.firstIndex(of: ".") else { return nil }
            name = name[name.index(after: dot)...]
        }
    }
}
