import Foundation
import Testing

@testable import Queue
@testable import Risk

@Suite("Fixed-text search in Dockerfile rules")
struct TextMentionTests {
    @Test("answers as Foundation's contains does: ASCII by bytes, anything else through Foundation")
    func sameAnswerAsFoundation() {
        let texts = [
            "", "c", "chmod", "chmo", "xchmod", "chmodx", "chchmod", "ccchmod 777 /x", "run chmod o+w /srv",
            "echo \\nroot:x >> /etc/passwd", "a\nroot:x", "a\r\nroot:x", "chmod\r\n777", "cafe\u{301} chmod",
            "chmod\u{301} 777", "c\u{301}hmod", "ｃhmod", "$(curl x)", "<(wget y)", "$", "(", "$(", "/etc", "/et",
            "zypper ar x", "zypper ar", "\u{212A}", "K",
        ]
        let needles = ["chmod", "777", "\nroot:", "$(", "<(", "/etc", "zypper ar ", "c", "K", ""]
        for text in texts {
            for needle in needles {
                #expect(text.mentions(needle) == text.contains(needle), "\(Escaped(text)) / \(Escaped(needle))")
            }
        }
        // The search finds the needle at either end and after partial matches, and nowhere else.
        #expect("chmod".mentions("chmod"))
        #expect("x chmod".mentions("chmod"))
        #expect("chmochmod".mentions("chmod"))
        #expect(!"chmo".mentions("chmod"))
        #expect(!"chmochmo".mentions("chmod"))
    }

    @Test("non-ASCII text: a needle whose bytes are absent is answered without Foundation, and the same")
    func nonASCIITextSameAnswer() {
        let texts = [
            "\u{90}\u{8b} curl x.example; sh -c z$(wget -qO- x > >(sh)", "ｃurl ｗget", "wget\u{301} -q", "é (wget x)",
            "(wget\u{0338} x)", "\u{212A}elvin; x", "a\u{037E} b", "a\u{1FEF}b`", "x\r\n(curl y)", "\u{FFFD}\u{FFFD}ruby\u{FFFD}",
            "K;`", "urllib\u{300}", "naïve urllib.request",
        ]
        let needles = [
            "(wget ", "(curl ", "/dev/tcp/", "$(", "<(", "urllib", "Net::HTTP", "K", ";", "`", "ruby", "wget", "é", "\r\n",
        ]
        for text in texts {
            for needle in needles {
                #expect(text.mentions(needle) == text.contains(needle), "\(Escaped(text)) / \(Escaped(needle))")
            }
        }
    }
}
