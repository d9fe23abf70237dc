import Foundation
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

@Suite struct ConsoleRuleTests {
    @Test func everyPageEscapesWhatItShows() {
        let pages = WebPages(directories: [WebPages.coreDirectory, NightOwlConsole.definition.pagesDirectory])
        #expect(pages.names.isSuperset(of: ["home", "alerts", "alert", "alert-row", "flash", "not-found", "layout", "knowledge", "entry"]))
        #expect(pages.names == Set(pages.sources.keys), "every template parses")
        #expect(TemplateSafety.violations(pages) == [])
    }

    /// (highlight as the API gives it, pieces): marks become flags, the text comes back unescaped for the template to
    /// escape again; markup in the text stays text.
    @Test(arguments: [
        ("a <mark>disk</mark> full", ["a |false", "disk|true", " full|false"]),
        ("&lt;script&gt; <mark>x</mark>", ["<script> |false", "x|true"]),
        ("&amp;lt;b&amp;gt;", ["&lt;b&gt;|false"]),
        ("<mark>only</mark>", ["only|true"]),
        ("", [String]()),
    ] as [(String, [String])])
    func highlights(html: String, pieces: [String]) {
        let split = HighlightSegments.split(html).map { "\($0["text"] as? String ?? "")|\($0["marked"] as? Bool ?? false)" }
        #expect(split == pieces)
    }

    /// Links from webhook fields: only http(s) with a host becomes a link.
    @Test(arguments: [("https://grafana.example.com/d/1", true), ("http://prom:9090/graph?g0.expr=up", true), ("javascript:alert(1)", false),
                      ("JavaScript:alert(1)", false), ("data:text/html,<script>", false), ("//evil.example", false), ("/relative", false),
                      ("https://", false), ("", false), (nil, false)] as [(String?, Bool)])
    func links(raw: String?, linked: Bool) {
        #expect((SafeLink.http(raw) != nil) == linked)
    }

    /// (query, statuses, problem, link): the list's form keeps what it knows and names what it ignored.
    @Test(arguments: [
        ("", ["firing", "acknowledged"], false, "/alerts"),
        ("status=resolved&severity=critical", ["resolved"], false, "/alerts?status=resolved&severity=critical"),
        ("status=all&q=disk+full&sort=oldest", [], false, "/alerts?status=all&q=disk%20full&sort=oldest"),
        ("status=bogus&severity=fatal", ["firing", "acknowledged"], true, "/alerts"),
        ("range=7d&source=alertmanager&service=pay", ["firing", "acknowledged"], false, "/alerts?service=pay&source=alertmanager&range=7d"),
    ] as [(String, [String], Bool, String)])
    func listForm(query: String, statuses: [String], problem: Bool, link: String) {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let form = AlertListForm(query: Query(rawQuery: query), now: now)
        #expect(form.filter.statuses == statuses)
        #expect((form.problem != nil) == problem)
        #expect(form.link(cursor: nil) == link)
        if query.contains("range=7d") { #expect(form.filter.since == now.addingTimeInterval(-604_800)) }
        if query.contains("sort=oldest") { #expect(form.filter.oldestFirst) }
    }
}

@Suite struct ConsolePageTests {
    func events(_ f: NightOwlFixture) async throws -> [String] {
        try await f.app.database.withTenant(f.tenant.slug) { connection in
            var rows: [String] = []
            for try await (topic, kind) in try await connection.query("SELECT topic, kind FROM console_events ORDER BY id", logger: TestDatabase.logger)
                .decode((String, String).self) { rows.append("\(topic) \(kind)") }
            return rows
        }
    }

    /// What a list shows changing is recorded for the live streams: a new alert, a repeat, an acknowledgement; an
    /// update that changes nothing a person sees is not.
    @Test func alertChangesAreRecordedForTheLiveStreams() async throws {
        let f = try await NightOwlFixture.make()
        let body = Payloads.alertmanager(fingerprint: "live-1")
        let id = try await f.app.test { client -> String in
            let created = try await client.call(.post, "/api/v1/webhooks/alertmanager", key: f.key, json: body)
            #expect(created.status == .ok, "\(created.text)")
            _ = try await client.call(.post, "/api/v1/webhooks/alertmanager", key: f.key, json: body)
            return try #require(created.json["alerts"]?.arrayValue?.first?["alert_id"]?.stringValue)
        }
        #expect(try await events(f) == ["alert created", "alert changed"])
        try await f.app.database.withTenant(f.tenant.slug) { connection -> Void in
            _ = try await connection.query("UPDATE alerts SET updated_at = now() WHERE fingerprint = 'live-1'", logger: TestDatabase.logger)
        }
        #expect(try await events(f).count == 2)
        _ = try await f.app.test { try await $0.call(.patch, "/api/v1/alerts/\(id)/acknowledge", key: f.key) }
        #expect(try await events(f) == ["alert created", "alert changed", "alert changed"])
    }

    /// A short link finds the alert by the start of its id; too short or unknown is the not-found page.
    @Test func shortLinksAndNotFound() async throws {
        let f = try await NightOwlFixture.make()
        let id = try await f.app.test { client -> String in
            let created = try await client.call(.post, "/api/v1/webhooks/alertmanager", key: f.key, json: Payloads.alertmanager(fingerprint: "short-1"))
            return try #require(created.json["alerts"]?.arrayValue?.first?["alert_id"]?.stringValue).lowercased()
        }
        try await f.app.test { client in
            let found = try await client.call(.get, "/a/\(id.prefix(8))", key: f.key)
            #expect(found.status == .seeOther && found.headers[.location] == "/alerts/\(id)")
            for missing in ["/a/\(id.prefix(6))", "/a/ffffffff", "/alerts/not-an-id", "/alerts/\(UUID().uuidString)"] {
                let response = try await client.call(.get, missing, key: f.key)
                #expect(response.status == .notFound, "\(missing)")
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            let page = try await client.call(.get, "/alerts/\(id)", key: f.key)
            #expect(page.status == .ok && page.text.contains("PodCrashLoopBackOff"))
            let list = try await client.call(.get, "/alerts?status=bogus&cursor=garbage", key: f.key)
            #expect(list.status == .ok && list.text.contains("Unknown status ignored"))
        }
    }
}
