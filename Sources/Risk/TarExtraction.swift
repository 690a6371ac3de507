import Queue

/// A `tar` command that extracts, read getopt-style as far as the hints need:
/// the archive, the directory it unpacks into (`-C`, `--directory`) and the
/// members it names. `tar xf a.tar`, `tar -xzf a.tgz`, `tar --extract
/// --file=a.tar --directory=/etc passwd` all read the same.
struct TarExtraction {
    var archive: String?
    var directory: String?
    var members: [String] = []

    /// `nil` when `command` does not extract (`tar cf`, `tar tf`).
    init?(_ command: ShellScript.Command) {
        let words = command.arguments
        var extracting = false
        var pending: [Character] = []  // option letters whose values come next, in order
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            if let letter = pending.first {
                pending.removeFirst()
                if letter == "f" { archive = word } else if letter == "C" { directory = word }
                continue
            }
            if word.hasPrefix("--") {
                let name = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
                let value = word.contains("=") ? String(word[word.index(after: word.firstIndex(of: "=")!)...]) : nil
                switch name {
                case "--extract", "--get": extracting = true
                case "--file": if let value { archive = value } else { pending.append("f") }
                case "--directory": if let value { directory = value } else { pending.append("C") }
                default: break
                }
                continue
            }
            // The first word may be a bundle without a dash (`tar xzf a.tgz`).
            if word.hasPrefix("-") || (index == 1 && word.allSatisfy(\.isLetter)) {
                let dashed = word.hasPrefix("-")
                var letters = word.drop(while: { $0 == "-" })
                while let letter = letters.first {
                    letters = letters.dropFirst()
                    if letter == "x" { extracting = true }
                    guard "fCTXbHKNg".contains(letter) else { continue }
                    // `-C/etc`, `-fa.tar`: with a dash, the rest of the word is the value.
                    if dashed, !letters.isEmpty {
                        if letter == "f" { archive = String(letters) } else if letter == "C" { directory = String(letters) }
                        break
                    }
                    pending.append(letter)
                }
                continue
            }
            members.append(word)
        }
        guard extracting else { return nil }
    }
}
