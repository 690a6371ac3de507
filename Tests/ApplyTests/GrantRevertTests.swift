import Queue
import Testing

@testable import Apply

/// The three-way revert, pure: what a grant holds comes out of the file as it is now.
@Suite struct GrantRevertTests {
    let base = "# team hosts\napi.one.example\n"

    @Test func aGrantHoldsTheHostsItAddedNotTheFile() {
        let change = GrantHoldings.change(
            of: .allowlist, from: base, to: "# team hosts\napi.one.example\nDocs.Python.org\n*.pypi.org\n")
        #expect(change.hosts == ["docs.python.org", "*.pypi.org"])
        #expect(change.routesAdded.isEmpty)
    }

    @Test func endingTakesOutOnlyTheHeldLinesAndKeepsEverythingElseByteForByte() {
        let holdings = GrantHoldings(hosts: ["docs.python.org"])
        // Since the grant: a comment and another host were added by hand, with CRLF on one line.
        let now = "# team hosts\napi.one.example\r\nDocs.Python.org\n# added later\nlater.example\n"
        let result = GrantRevert.revert(now, of: .allowlist, removing: holdings, keeping: GrantHoldings())
        #expect(result.text == "# team hosts\napi.one.example\r\n# added later\nlater.example\n")
        #expect(result.removed == ["host docs.python.org"])
    }

    @Test func aHostAnotherLiveGrantHoldsStays() {
        let now = base + "docs.python.org\n"
        let result = GrantRevert.revert(
            now, of: .allowlist, removing: GrantHoldings(hosts: ["docs.python.org"]),
            keeping: GrantHoldings(hosts: ["docs.python.org"]))
        #expect(!result.changesFile)
        #expect(result.text == now)
        #expect(result.keptForOthers == ["host docs.python.org"])
    }

    @Test func aHostRemovedSinceIsAlreadyGoneAndNothingIsWritten() {
        let result = GrantRevert.revert(
            base, of: .allowlist, removing: GrantHoldings(hosts: ["docs.python.org"]), keeping: GrantHoldings())
        #expect(!result.changesFile)
        #expect(result.alreadyGone == ["host docs.python.org"])
    }

    @Test func aPermanentApprovalReleasesWhatItAskedFor() {
        let grant = GrantHoldings(hosts: ["docs.python.org", "pypi.org"])
        let permanent = GrantHoldings.change(of: .allowlist, from: base, to: base + "docs.python.org\n")
        #expect(grant.releasing(permanent).hosts == ["pypi.org"])
    }

    @Test func whatWasThereForGoodIsNotTheGrantsUnlessAnotherGrantHoldsIt() {
        // The proposal was made against `base`, but by the time it was applied `pypi.org` was in the
        // file for good, and `docs.python.org` was there because another grant holds it.
        let change = GrantHoldings.change(of: .allowlist, from: base, to: base + "pypi.org\ndocs.python.org\nnew.example\n")
        let restricted = change.restricted(
            to: .allowlist, before: base + "pypi.org\ndocs.python.org\n",
            heldByOthers: GrantHoldings(hosts: ["docs.python.org"]))
        #expect(restricted.hosts == ["docs.python.org", "new.example"])
    }

    static let routesBase = #"{"routes": [{"name": "gh", "upstream": "https://api.github.com", "methods": ["GET"]}], "version": 2}"#

    @Test func aChangedRouteIsPutBackAndAnAddedOneGoes() throws {
        let granted =
            #"{"routes": [{"name": "gh", "upstream": "https://api.github.com", "methods": ["GET", "POST"]}, {"name": "pypi", "upstream": "https://pypi.org"}], "version": 2}"#
        let change = GrantHoldings.change(of: .routes, from: Self.routesBase, to: granted)
        #expect(change.routesAdded == [#"{"name":"pypi","upstream":"https://pypi.org"}"#])
        #expect(change.routesChanged.count == 1)
        let result = GrantRevert.revert(granted, of: .routes, removing: change, keeping: GrantHoldings())
        #expect(result.removed.count == 2)
        let document = try RoutesDocument.parse(result.text)
        #expect(document.routes == (try RoutesDocument.parse(Self.routesBase)).routes)
        #expect(document.root["version"] == .number("2"))
    }

    @Test func aRouteEditedSinceTheGrantIsRespected() throws {
        let granted = #"{"routes": [{"name": "gh", "upstream": "https://api.github.com", "methods": ["GET", "POST"]}]}"#
        let change = GrantHoldings.change(of: .routes, from: Self.routesBase, to: granted)
        let editedLater = #"{"routes": [{"name": "gh", "upstream": "https://api.github.com", "methods": ["DELETE"]}]}"#
        let result = GrantRevert.revert(editedLater, of: .routes, removing: change, keeping: GrantHoldings())
        #expect(!result.changesFile)
        #expect(result.text == editedLater)
        #expect(result.alreadyGone.count == 1)
    }

    /// Finding 2: routes are matched by JSON equality, as the change was found, never by their text.
    @Test func aHeldRouteIsMatchedWhateverTheOrderOfItsKeys() throws {
        let granted =
            #"{"routes": [{"name": "gh", "upstream": "https://api.github.com", "methods": ["GET", "POST"]}, {"name": "pypi", "upstream": "https://pypi.org"}], "version": 2}"#
        let change = GrantHoldings.change(of: .routes, from: Self.routesBase, to: granted)
        let reordered =
            #"{"routes": [{"methods": ["GET", "POST"], "upstream": "https://api.github.com", "name": "gh"}, {"upstream": "https://pypi.org", "name": "pypi"}], "version": 2}"#
        let result = GrantRevert.revert(reordered, of: .routes, removing: change, keeping: GrantHoldings())
        #expect(result.removed.count == 2)
        #expect(result.alreadyGone.isEmpty)
        #expect(try RoutesDocument.parse(result.text).routes == (try RoutesDocument.parse(Self.routesBase)).routes)
        // Another grant holding the reordered route keeps it.
        let kept = GrantRevert.revert(
            reordered, of: .routes, removing: change,
            keeping: GrantHoldings(routesAdded: [#"{"upstream":"https://pypi.org","name":"pypi"}"#]))
        #expect(kept.keptForOthers.count == 1)
        // A reordered route already in the file is no addition to hold, and releasing matches it too.
        #expect(change.restricted(to: .routes, before: reordered, heldByOthers: GrantHoldings()).isEmpty)
        let permanent = GrantHoldings.change(of: .routes, from: Self.routesBase, to: reordered)
        #expect(change.releasing(permanent).isEmpty)
    }

    /// Finding 4: a grant layered on another's route holds its change from the route before both.
    @Test func aLaterGrantsChangeIsChainedToTheRouteBeforeTheEndedOne() {
        let ro = #"{"name":"gh","methods":["GET"]}"#, rw = #"{"name":"gh","methods":["GET","POST"]}"#
        let rwd = #"{"name":"gh","methods":["GET","POST","DELETE"]}"#, added = #"{"name":"new"}"#
        let first = GrantHoldings(routesAdded: [added], routesChanged: [.init(before: ro, after: rw)])
        let second = GrantHoldings(routesChanged: [
            .init(before: #"{"methods":["GET","POST"],"name":"gh"}"#, after: rwd),
            .init(before: added, after: #"{"name":"new","x":1}"#),
        ])
        let chained = second.chained(after: first)
        #expect(chained.routesChanged == [.init(before: ro, after: rwd)])
        #expect(chained.routesAdded == [#"{"name":"new","x":1}"#])
        #expect(GrantHoldings(hosts: ["a.example"]).chained(after: first) == GrantHoldings(hosts: ["a.example"]))
    }

    @Test func durationsParseAndPrintAsWritten() throws {
        #expect(try GrantDuration.parse("90s").seconds == 90)
        #expect(try GrantDuration.parse("30m").seconds == 1_800)
        #expect(try GrantDuration.parse("8h").description == "8h")
        #expect(try GrantDuration.parse("2d").seconds == 172_800)
        #expect(try GrantDuration.parse("120m").description == "2h")
        for bad in ["", "h", "0m", "1.5h", "-1h", "10w", "366d", "1h30m", " 1h"] {
            #expect(throws: GrantDuration.ParseError.self, "\(bad)") { try GrantDuration.parse(bad) }
        }
        #expect(try GrantRequest.parse("always") == .permanent)
    }

    @Test func theBottlesLimitsRefuseLongerRequestsWithTheMaximumAndADockerfileAlways() throws {
        let settings = try ReloadSettings.parse("[grants.allowlist]\ndefault = \"1h\"\nmaximum = \"8h\"\n")
        let limits = settings.grants[.allowlist]
        let bottle = try BottleSlug("web")
        #expect(try GrantRequest.asConfigured.resolve(for: .allowlist, bottle: bottle, limits: limits)?.seconds == 3_600)
        #expect(try GrantRequest.asConfigured.resolve(for: .routes, bottle: bottle, limits: nil) == nil)
        do {
            _ = try GrantRequest.lasting(try GrantDuration.parse("2d")).resolve(
                for: .allowlist, bottle: bottle, limits: limits)
            Issue.record("a 2d grant passed an 8h maximum")
        } catch {
            #expect("\(error)".contains("maximum of 8h"))
        }
        #expect(throws: ApplyError.self) {
            try GrantRequest.permanent.resolve(for: .allowlist, bottle: bottle, limits: limits)
        }
        do {
            _ = try GrantRequest.lasting(try GrantDuration.parse("1h")).resolve(
                for: .dockerfile, bottle: bottle, limits: nil)
            Issue.record("a time-boxed Dockerfile passed")
        } catch {
            #expect("\(error)".contains("cannot be time-boxed"))
        }
        #expect(throws: ApplyError.self) { try ReloadSettings.parse("[grants.dockerfile]\ndefault = \"1h\"\n") }
        #expect(throws: ApplyError.self) { try ReloadSettings.parse("[grants.allowlist]\ndefault = \"9h\"\nmaximum = \"8h\"\n") }
        #expect(throws: ApplyError.self) { try ReloadSettings.parse("[grants.allowlist]\nmaximum = \"soon\"\n") }
    }
}
