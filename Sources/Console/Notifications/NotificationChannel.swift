import Foundation
import Queue

/// One place the operator is told about new proposals.
public enum NotificationChannel: Sendable, Equatable {
    /// A generic webhook: a JSON document POSTed to `url` (docs/notifications.md),
    /// with `Authorization: Bearer <token>` when a token is set.
    case webhook(url: String, token: String?)
    /// An ntfy-compatible server: the text POSTed to `<server>/<topic>` with
    /// ntfy's title, priority, tags and click headers.
    case ntfy(server: String, topic: String, token: String?)
    /// A Slack-compatible incoming webhook: `{"text": …}` with agent text escaped for Slack's markup.
    case slack(url: String)
    /// A desktop notification through `notify-send`, where it is installed.
    case desktop

    /// A name for logs and the console's status line (never a secret).
    public var name: String {
        switch self {
        case .webhook: "webhook"
        case .ntfy: "ntfy"
        case .slack: "slack"
        case .desktop: "desktop"
        }
    }

    /// The HTTP request announcing `notification` (`nil` for the desktop channel).
    func request(for notification: ProposalNotification) -> NotificationRequest? {
        switch self {
        case .webhook(let url, let token):
            struct Body: Encodable {
                let event: String
                /// How many proposals the message is about (a burst is one message), and their ids.
                let count: Int
                let ids: [String]
                let title: String
                let first_seen: String?
                let created_at: String
                let id: String, bottle: String, tool: String, file: String
                let summary: [String]
                let highest_risk: String?
                let risks: [String]
                let justification: String
                let link: String?
            }
            let body = Body(
                event: notification.isReminder ? "proposal.reminder" : "proposal.created",
                count: notification.ids.count, ids: notification.ids.map(\.rawValue), title: notification.title,
                first_seen: notification.firstSeen.map(Timestamp.format),
                created_at: Timestamp.format(notification.createdAt),
                id: notification.id.rawValue, bottle: notification.bottle.rawValue,
                tool: notification.tool.rawValue, file: notification.tool.configFile.fileName,
                summary: notification.summary, highest_risk: notification.highestRisk?.rawValue,
                risks: notification.risks, justification: notification.justification, link: notification.link)
            var headers = ["Content-Type": "application/json"]
            if let token { headers["Authorization"] = "Bearer \(token)" }
            return NotificationRequest(url: url, headers: headers, body: Self.json(body))
        case .ntfy(let server, let topic, let token):
            let priority =
                switch notification.highestRisk {
                case .critical: "5"
                case .warning: "4"
                default: "3"
                }
            // Header values must be one line of visible ASCII; the title is built from slugs and tool names.
            var headers = [
                "Title": notification.title.filter { $0.isASCII && !$0.isNewline },
                "Priority": priority, "Tags": notification.highestRisk == .critical ? "warning" : "inbox_tray",
                "Markdown": "no",
            ]
            if let link = notification.link { headers["Click"] = link }
            if let token { headers["Authorization"] = "Bearer \(token)" }
            let url = (server.hasSuffix("/") ? String(server.dropLast()) : server) + "/" + topic
            return NotificationRequest(url: url, headers: headers, body: Data(notification.lines.joined(separator: "\n").utf8))
        case .slack(let url):
            struct Body: Encodable {
                let text: String
                let link_names = false
                let unfurl_links = false
            }
            var text = "*" + SlackText.escape(notification.title) + "*\n"
            text += notification.lines.map(SlackText.escape).joined(separator: "\n")
            return NotificationRequest(
                url: url, headers: ["Content-Type": "application/json"], body: Self.json(Body(text: text)))
        case .desktop:
            return nil
        }
    }

    private static func json(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }
}

/// An HTTP POST a channel sends.
struct NotificationRequest: Sendable, Equatable {
    let url: String
    let headers: [String: String]
    let body: Data
}
