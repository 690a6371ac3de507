import FoundationEssentials

/// The form two JSON member names are compared in when deciding whether a
/// reader could take one for the other: NFKC, then case folded, then NFKC
/// again (Unicode's NFKC_Casefold, up to the ignorable code points, which
/// are removed too).
///
/// JSON readers differ: Go's `encoding/json` matches struct fields
/// case-insensitively (with Unicode simple folding, so `ſ` matches `s` and
/// `K` (Kelvin) matches `k`), others compare bytes, some normalise. A
/// routes file in which two keys of one object fold alike
/// (`"upstream"` and `"Upstream"`, or `"ｕｐｓｔｒｅａｍ"`) can mean one thing to
/// the reviewer and another to cred-proxy, so the validator refuses it, and
/// the risk hints look keys up in this form.
public enum KeyFolding {
    public static func fold(_ key: String) -> String {
        if key.utf8.allSatisfy({ $0 < 0x80 }) { return key.lowercased() }
        let scalars = key.unicodeScalars.filter { !CanonicalHost.isIgnored($0) && !$0.properties.isDefaultIgnorableCodePoint }
        let stripped = String(String.UnicodeScalarView(scalars))
        return UnicodeFolding.nfkc(UnicodeFolding.caseFolded(UnicodeFolding.nfkc(stripped)))
    }
}
