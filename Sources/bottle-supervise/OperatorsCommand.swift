import Apply
import ArgumentParser
import Console
import Fleet
import Foundation
import Logging
import Queue
import SidecarCommandLine

/// `bottle-supervise operators`: the fleet's named operators, who sign in to
/// `web --database` with a one-time link and whose names decisions carry.
struct OperatorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operators",
        abstract: "Add, list and remove the fleet's named operators (who sign in to `web --database`).",
        discussion: """
            Operators live in the fleet database, so a link made on one host signs in on every host's fleet page, \
            and removing an operator signs them out everywhere at their next click. Only the SHA-256 of each \
            sign-in token is stored. docs/web-console.md, "Fleet view and operators".
            """,
        subcommands: [Add.self, ListOperators.self, Remove.self]
    )

    /// The operators in the fleet database the options (or the host settings file) name, for `body`.
    static func connect<Result: Sendable>(
        _ options: FleetDatabaseOptions,
        _ body: (OperatorStore) async throws -> Result
    ) async throws -> Result {
        let settingsPath = HostSettingsPath(flag: nil)
        let (found, _) = try options.resolve(settingsFile: settingsPath.path, otherKeys: FleetWebSettings.keys)
        guard let settings = found else {
            throw Failure.usage(
                "operators live in the fleet database: give --database URL (or $SUPERVISE_DATABASE_URL, or [fleet] database in \(settingsPath.path))")
        }
        var logger = Logger(label: "bottle-supervise.operators")
        logger.logLevel = .warning
        do {
            return try await FleetStore.withStore(settings: settings, logger: logger) { store in
                try await store.migrator.migrate()
                return try await body(OperatorStore(client: store.client, logger: logger))
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure.failed("the fleet database \(settings.redactedURL): \(error)")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an operator (or make a new sign-in link for one) and print the one-time link.",
            discussion: """
                The link works once and expires (--valid-for); send it to the operator over a private channel. \
                Running it again for the same name makes a new link; older unspent links stay valid until they expire.
                """)

        @Argument(help: "The operator's name: lower-case letters, digits, '.', '_' and '-' (it is what decisions carry).")
        var name: String

        @Option(
            name: .customLong("web-url"),
            help: "The fleet page's address the link opens, as the operator's browser reaches it (default http://127.0.0.1:9200).")
        var webURL = "http://127.0.0.1:9200"

        @Option(name: .customLong("valid-for"), help: "How long the link may wait to be used: 30m, 8h, 2d (default 24h).")
        var validFor = "24h"

        @OptionGroup var database: FleetDatabaseOptions

        func validate() throws {
            if let problem = FleetOperatorName.problem(with: name) {
                throw ValidationError("\(Escaped(name)) is not an operator name: \(problem)")
            }
            _ = try linkBase()
            _ = try lifetime()
        }

        func linkBase() throws -> String {
            guard let url = URL(string: webURL), let scheme = url.scheme, ["http", "https"].contains(scheme),
                url.host?.isEmpty == false, url.query == nil, url.fragment == nil, url.user == nil
            else {
                throw ValidationError(
                    "--web-url \(Escaped(webURL)) is not the page's address: give http(s)://HOST[:PORT], as `web` serves it")
            }
            return webURL.hasSuffix("/") ? String(webURL.dropLast()) : webURL
        }

        func lifetime() throws -> Duration {
            guard let duration = try? GrantDuration.parse(validFor) else {
                throw ValidationError("--valid-for \(Escaped(validFor)) is not a duration: give one like 30m, 8h or 2d")
            }
            return .seconds(duration.seconds)
        }

        func run() async throws {
            guard let operatorName = FleetOperatorName(name) else { throw Failure.usage("\(Escaped(name)) is not an operator name") }
            let (base, lifetime) = (try linkBase(), try lifetime())
            let added = try await OperatorsCommand.connect(database) { store in
                try await store.add(operatorName, lifetime: lifetime)
            }
            print(
                "\(added.isNew ? "added operator" : "new sign-in link for") \(operatorName); the link works once, until \(Timestamp.format(added.expiresAt)):"
            )
            print("  \(base)/login/operator?token=\(added.token)")
        }
    }

    struct ListOperators: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the fleet's operators: when added, last sign-in, unused links.")

        @OptionGroup var database: FleetDatabaseOptions

        func run() async throws {
            let operators = try await OperatorsCommand.connect(database) { store in
                try await store.list()
            }
            guard !operators.isEmpty else {
                print("no operators; add one with: bottle-supervise operators add NAME")
                return
            }
            let width = max(8, operators.map(\.name.rawValue.count).max() ?? 0)
            func pad(_ text: String, _ count: Int) -> String { text + String(repeating: " ", count: max(0, count - text.count)) }
            print(pad("OPERATOR", width) + "  " + pad("ADDED (UTC)", 24) + "  " + pad("LAST SIGN-IN (UTC)", 24) + "  UNUSED LINKS")
            for item in operators {
                print(
                    pad(item.name.rawValue, width) + "  " + pad(Timestamp.format(item.addedAt), 24) + "  "
                        + pad(item.lastSignIn.map(Timestamp.format) ?? "never", 24) + "  \(item.openLinks)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an operator: their unused links stop working and their sessions end at their next request.",
            discussion: "Exit status: 0 removed; 3 no operator of that name.")

        @Argument(help: "The operator's name.")
        var name: String

        @OptionGroup var database: FleetDatabaseOptions

        func validate() throws {
            if let problem = FleetOperatorName.problem(with: name) {
                throw ValidationError("\(Escaped(name)) is not an operator name: \(problem)")
            }
        }

        func run() async throws {
            guard let operatorName = FleetOperatorName(name) else { throw Failure.usage("\(Escaped(name)) is not an operator name") }
            let removed = try await OperatorsCommand.connect(database) { store in
                try await store.remove(operatorName)
            }
            guard removed else { throw Failure.notFound("no operator \(operatorName); see bottle-supervise operators list") }
            print("removed operator \(operatorName); their sessions end at their next request")
        }
    }
}
