import Queue
import Risk

/// libFuzzer entry: the canonical host reader (`CanonicalHost`) and the
/// host hints built on it, through a routes file and an allowlist.
///
/// Beyond "no crash, no hang": a host that reads is read once — its
/// canonical text reads back as itself, with the same address — and is
/// lower-case ASCII without a trailing dot; an IPv4 address is a dotted
/// quad; a refusal gives a reason; the hints of a route and of an
/// allowlist entry for the same bytes never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHosts(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    switch CanonicalHost.parse(text) {
    case .success(let host):
        guard case .success(let again) = CanonicalHost.parse(host.text) else {
            fatalError("the canonical text \(Escaped(host.text)) of \(Escaped(text)) does not read back")
        }
        if again.text != host.text || again.address != host.address {
            fatalError("\(Escaped(text)) reads as \(Escaped(host.text)), which reads as \(Escaped(again.text))")
        }
        if !host.text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !(0x41...0x5A).contains($0) }) || host.text.hasSuffix(".") {
            fatalError("the canonical text \(Escaped(host.text)) is not lower-case ASCII without a trailing dot")
        }
        if case .ipv4 = host.address, host.text.split(separator: ".").count != 4 {
            fatalError("IPv4 \(Escaped(host.text)) is not a dotted quad")
        }
    case .failure(let refusal):
        if refusal.reason.isEmpty { fatalError("a refusal without a reason for \(Escaped(text))") }
    }
    let quoted = text.unicodeScalars.map { scalar -> String in
        switch scalar {
        case "\"": return "\\\""
        case "\\": return "\\\\"
        case _ where scalar.value < 0x20: return "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
        default: return String(scalar)
        }
    }.joined()
    let routes = "{\"routes\": [{\"path\": \"/x/\", \"upstream\": \"http://\(quoted)/\", \"token\": \"t\"}]}"
    let allowlist = text.split(whereSeparator: \.isNewline).prefix(1).joined() + "\n"
    _ = RiskHints.assess(tool: .credProxyBlock, proposed: routes, current: nil)
    _ = RiskHints.assess(tool: .pipelockBlock, proposed: allowlist, current: nil)
    return 0
}
