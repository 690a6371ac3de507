import Foundation
import Hummingbird
import HummingbirdTesting
import Queue
import SystemPackage
import Testing

@testable import Apply
@testable import WebConsole

extension WebConsoleTests {
    @Test("the duration buttons make a grant; the grants page lists it, extends it and revokes it, CSRF-checked")
    func grantsFromTheWebConsole() async throws {
        let proposal = try await propose()
        let root = self.root
        try await withClient { client, cookie in
            let (token, reviewed) = try await review(proposal, client: client, cookie: cookie)
            let page = String(
                buffer: try await client.execute(
                    uri: "/proposals/\(proposal.id)", method: .get, headers: headers(cookie: cookie)
                ).body)
            #expect(page.contains(#"id="approve-1h">1 hour</button>"#), "\(page)")
            #expect(page.contains(#"id="approve-8h">8 hours</button>"#))
            #expect(page.contains(#"id="approve-always">always</button>"#))
            let before = Date()
            try await client.execute(
                uri: "/proposals/\(proposal.id)/decide", method: .post, headers: headers(cookie: cookie, form: true),
                body: ByteBuffer(string: "action=approve-1h&csrf=\(token)&reviewed=\(reviewed)")
            ) { response in #expect(response.status == .seeOther) }
            let queue = QueueRoot(FilePath(root + "/queue")).queue(for: proposal.bottle)
            let expiresAt = try #require(try queue.decision(proposal.id)?.expiresAt)
            #expect(abs(expiresAt.timeIntervalSince(before) - 3_600) < 30)

            let grants = String(
                buffer: try await client.execute(uri: "/grants", method: .get, headers: headers(cookie: cookie)).body)
            #expect(grants.contains("host pypi.org"), "\(grants)")
            #expect(grants.contains("/grants/\(proposal.id)/revoke"), "\(grants)")

            try await client.execute(
                uri: "/grants/\(proposal.id)/extend", method: .post, headers: headers(cookie: cookie, form: true),
                body: ByteBuffer(string: "csrf=wrong&for=8h")
            ) { response in #expect(response.status == .forbidden) }
            try await client.execute(
                uri: "/grants/\(proposal.id)/extend", method: .post, headers: headers(cookie: cookie, form: true),
                body: ByteBuffer(string: "csrf=\(token)&for=8h")
            ) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("Extended \(proposal.id)"))
            }
            #expect(abs((try queue.decision(proposal.id)?.expiresAt ?? .distantPast).timeIntervalSinceNow - 8 * 3_600) < 30)

            try await client.execute(
                uri: "/grants/\(proposal.id)/revoke", method: .post, headers: headers(cookie: cookie, form: true),
                body: ByteBuffer(string: "csrf=\(token)")
            ) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("took out host pypi.org"), "\(String(buffer: response.body))")
            }
            #expect(try String(contentsOfFile: root + "/bottles/demo/allowlist", encoding: .utf8) == "api.github.com\n")
            try await client.execute(
                uri: "/grants/\(proposal.id)/revoke", method: .post, headers: headers(cookie: cookie, form: true),
                body: ByteBuffer(string: "csrf=\(token)")
            ) { response in #expect(response.status == .notFound) }
        }
    }
}
