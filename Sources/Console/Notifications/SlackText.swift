/// Text made inert for Slack's message markup.
///
/// Slack reads `<…>` as links and mentions (`<!channel>`, `<@U123>`,
/// `<https://evil|click here>`), and with `link_names` plain `@channel` and
/// `@here` notify everyone. A justification must not be able to do either,
/// so `&`, `<` and `>` are written as Slack's escapes, and an `@` gets a
/// word joiner after it so it never starts a mention. Formatting characters
/// (`*`, `_`, `~`, backticks) only change how text looks and are left alone.
enum SlackText {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "@": out += "@\u{2060}"
            default: out.append(character)
            }
        }
        return out
    }
}
