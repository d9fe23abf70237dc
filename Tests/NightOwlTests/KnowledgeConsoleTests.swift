import Foundation
import HTTPTypes
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import Testing
@testable import NightOwl

@Suite struct KnowledgeFormTests {
    /// (text, commas allowed, items): lists are one per line; commas separate too, except in fingerprints and patterns.
    @Test(arguments: [
        ("a\nb\n\n c ", true, ["a", "b", "c"]),
        ("api, web,\nworker", true, ["api", "web", "worker"]),
        ("job=\"a,b\"\nsecond", false, ["job=\"a,b\"", "second"]),
        ("", true, [String]()),
    ] as [(String, Bool, [String])])
    func listItems(text: String, commas: Bool, items: [String]) {
        #expect(KnowledgeForm.items(text, commas: commas) == items)
    }

    /// (form, problems by field): a title and a severity are needed, a runbook must be one of the list, and the API's
    /// limits come back beside their field in the form's words.
    @Test(arguments: [
        (["title": "Disk full", "severity": "critical"], [String: String]()),
        (["title": " ", "severity": "critical"], ["title": "Give the entry a title."]),
        (["title": "x", "severity": "fatal"], ["severity": "Choose a severity."]),
        (["title": "x", "severity": "info", "runbook_id": "not-an-id"], ["runbook_id": "Choose a runbook from the list."]),
        (["title": "x", "severity": "info", "root_cause": String(repeating: "a", count: 20_001)], ["root_cause": "Root cause must be at most 20000 characters."]),
        (["title": "x", "severity": "info", "tags": (1...51).map(String.init).joined(separator: ",")], ["tags": "Tags may hold at most 50 items."]),
    ] as [([String: String], [String: String])])
    func problems(values: [String: String], problems: [String: String]) {
        switch KnowledgeForm(values: values).input() {
        case .success: #expect(problems.isEmpty)
        case .failure(let found): #expect(found.byField == problems)
        }
    }

    /// An entry shown in the form and read back is the same entry.
    @Test func anEntryRoundTripsThroughTheForm() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let entry = Incident(id: UUID(), title: "Disk full", fingerprints: ["fp,1", "fp2"], severity: .major, category: "storage",
                             services: ["db"], clusters: ["eu-1"], namespaces: [], tags: ["disk", "pvc"], symptoms: "Writes fail",
                             errorPatterns: ["No space left"], rootCause: "Logs", solution: "1. Rotate\n2. Grow", runbookID: nil,
                             createdBy: "x", resolutionCount: 0, lastSeenAt: nil, mergedIntoID: nil, mergedFromIDs: [], archivedAt: nil,
                             createdAt: now, updatedAt: now)
        let input = try KnowledgeForm(entry).input().get()
        #expect(input.fingerprints == entry.fingerprints && input.tags == entry.tags && input.services == ["db"] && input.namespaces == [])
        #expect(input.solution == entry.solution && input.severity == .major && input.clearsRunbook)
    }
}

@Suite struct KnowledgeConsoleTests {
    static let fragment: HTTPFields = [.init("X-Owl-Fragment")!: "preview"]

    func entry(_ client: some TestClientProtocol, _ f: NightOwlFixture, _ id: String) async throws -> JSONValue {
        try await client.call(.get, "/api/v1/incidents/\(id)", key: f.key).json
    }

    /// New entry: the form comes back with its problems and nothing stored; the preview is the server's Markdown;
    /// saved, edited (the history shows the words that changed) and archived, each audited.
    @Test func writingAnEntry() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let form = try await client.call(.get, "/knowledge/new", key: f.key)
            #expect(form.status == .ok && form.text.contains("New knowledge-base entry"))

            let refused = try await client.submit("/knowledge", key: f.key, form: [("title", ""), ("severity", "fatal"),
                                                                                   ("solution", "keep <this> text")])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("Give the entry a title.") && refused.text.contains("Choose a severity."))
            #expect(refused.text.contains("keep &lt;this&gt; text"), "what was typed is kept")
            #expect(try await client.call(.get, "/api/v1/incidents", key: f.key).json["total"]?.intValue == 0)

            let preview = try await client.submit("/knowledge", key: f.key, form: [("intent", "preview"), ("solution", "**Restart** <script>x</script>")],
                                                  headers: Self.fragment)
            #expect(preview.status == .ok)
            #expect(preview.text.contains("<strong>Restart</strong> &lt;script&gt;x&lt;/script&gt;") && !preview.text.contains("<html"))
            let noScript = try await client.submit("/knowledge", key: f.key, form: [("intent", "preview"), ("title", "T"), ("solution", "`kubectl`")])
            #expect(noScript.status == .ok && noScript.text.contains("<code>kubectl</code>") && noScript.text.contains("<html"))

            let created = try await client.submit("/knowledge", key: f.key, form: [
                ("intent", "save"), ("title", "Disk full on db"), ("severity", "critical"), ("category", "storage"),
                ("solution", "Rotate the logs, then grow the volume."), ("services", "db, api"), ("tags", "disk\npvc"),
                ("fingerprints", "fp-1\nfp,2"), ("error_patterns", ""), ("runbook_id", ""),
            ])
            #expect(created.status == .seeOther)
            let location = try #require(created.headers[.location])
            let id = String(location.dropFirst("/knowledge/".count))
            let stored = try await entry(client, f, id)
            #expect(stored["services"] == .array([.string("db"), .string("api")]))
            #expect(stored["fingerprints"] == .array([.string("fp-1"), .string("fp,2")]))

            let edit = try await client.call(.get, "/knowledge/\(id)/edit", key: f.key)
            #expect(edit.status == .ok && edit.text.contains("Rotate the logs, then grow the volume."))
            let incident = try await f.app.database.withTenant(f.tenant.slug) {
                try await IncidentStore(logger: TestDatabase.logger).get(try #require(UUID(uuidString: id)), on: $0)
            }
            var fields = KnowledgeForm(try #require(incident)).values
            fields["solution"] = "Rotate the logs, then **resize** the volume."
            let saved = try await client.submit("/knowledge/\(id)", key: f.key, form: fields.sorted { $0.key < $1.key } + [("intent", "save")])
            #expect(saved.status == .seeOther && saved.headers[.location] == location)
            let page = try await client.call(.get, location, key: f.key)
            #expect(page.text.contains("<strong>resize</strong>"), "the solution is rendered Markdown")
            #expect(page.text.contains("<del>grow</del>") && page.text.contains("<ins>**resize**</ins>"), "the history shows the changed words")

            let archived = try await client.submit("/knowledge/\(id)/archive", key: f.key, form: [])
            #expect(archived.status == .seeOther)
            #expect(try await entry(client, f, id)["archived_at"] != .null)

            await f.app.platform.audit.flush()
            let audit = try await client.call(.get, "/api/v1/audit-log?resource_id=\(id.uppercased())", key: f.key).json["items"]?.arrayValue ?? []
            #expect(Set(audit.compactMap { $0["action"]?.stringValue }) == ["incident.create", "incident.update", "incident.archive"])
            #expect(audit.allSatisfy { $0["resource_id"]?.stringValue == id })
        }
    }

    /// Merge: choose the other entry, see what the merged entry will hold, confirm; a second merge is refused in words.
    @Test func mergingTwoEntries() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let target = try await client.createIncident(f.key, #"{"title":"Pod crash loop","severity":"major","fingerprints":["a"],"solution":"Roll back"}"#).lowercased()
            let source = try await client.createIncident(f.key, #"{"title":"Crashing pods after deploy","severity":"critical","fingerprints":["b"]}"#).lowercased()
            let choose = try await client.call(.get, "/knowledge/\(target)/merge", key: f.key)
            #expect(choose.status == .ok && choose.text.contains("/knowledge/\(target)/merge?source=\(source)"))
            #expect(!choose.text.contains("merge?source=\(target)"), "an entry is not offered to merge into itself")
            let preview = try await client.call(.get, "/knowledge/\(target)/merge?source=\(source)", key: f.key)
            #expect(preview.status == .ok && preview.text.contains("After the merge") && preview.text.contains("<strong>a, b</strong>"))
            #expect(preview.text.contains("<strong>critical</strong>"))

            let merged = try await client.submit("/knowledge/\(target)/merge", key: f.key, form: [("source_id", source)])
            #expect(merged.status == .seeOther && merged.headers[.location] == "/knowledge/\(target)")
            #expect(try await entry(client, f, source)["merged_into_id"]?.stringValue?.lowercased() == target.lowercased())
            #expect(try await entry(client, f, target)["fingerprints"] == .array([.string("a"), .string("b")]))

            let again = try await client.submit("/knowledge/\(target)/merge", key: f.key, form: [("source_id", source)])
            #expect(again.status == .seeOther && again.headers[.location] == "/knowledge/\(target)/merge")
            let shown = try await client.call(.get, "/knowledge/\(target)/merge", key: f.key,
                                              headers: [.cookie: again.headers[.setCookie]?.components(separatedBy: ";").first ?? ""])
            #expect(shown.text.contains("The source was already merged."))
            let sourcePage = try await client.call(.get, "/knowledge/\(source)", key: f.key)
            #expect(sourcePage.text.contains("Merged into another entry") && !sourcePage.text.contains("/knowledge/\(source)/edit"))
        }
    }
}

@Suite struct RunbookPageTests {
    /// The seven Kubernetes templates are listed and read as rendered Markdown with a table of contents; the filters
    /// narrow the list.
    @Test func runbooksAreListedAndRendered() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let list = try await client.call(.get, "/runbooks?kind=templates", key: f.key)
            #expect(list.status == .ok && list.text.contains("7 runbooks"))
            let own = try await client.call(.post, "/api/v1/runbooks", key: f.key,
                                            json: ###"{"title":"Rotate <b>certs</b>","content":"## Steps\n1. Run `certbot renew`\n\n<script>alert(1)</script>","category":"tls"}"###)
            let id = try #require(own.json["id"]?.stringValue).lowercased()
            let mine = try await client.call(.get, "/runbooks?kind=own&q=rotate", key: f.key)
            #expect(mine.text.contains("1 runbooks") && mine.text.contains("Rotate &lt;b&gt;certs&lt;/b&gt;"))
            let page = try await client.call(.get, "/runbooks/\(id)", key: f.key)
            #expect(page.status == .ok)
            #expect(page.text.contains("<h3 id=\"section-steps\">Steps</h3>") && page.text.contains("<code>certbot renew</code>"))
            #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.text.contains("<script>alert"))
            let missing = try await client.call(.get, "/runbooks/\(UUID().uuidString)", key: f.key)
            #expect(missing.status == .notFound)
        }
    }
}

@Suite struct DashboardPageTests {
    /// Today's alerts are counted by severity, the acknowledged one gives a time to acknowledge, and the alert that
    /// fired twice leads the recurring list.
    @Test func theLastThirtyDays() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            func fire(_ fingerprint: String) async throws -> TestResponse {
                try await client.call(.post, "/api/v1/webhooks/generic", key: f.key,
                                      json: #"{"title":"Disk \#(fingerprint)","severity":"critical","fingerprint":"\#(fingerprint)"}"#)
            }
            let first = try await fire("dash-1")
            _ = try await fire("dash-1")
            _ = try await fire("dash-2")
            let id = try #require(first.json["alerts"]?.arrayValue?.first?["alert_id"]?.stringValue)
            _ = try await client.call(.patch, "/api/v1/alerts/\(id)/acknowledge", key: f.key)
            let page = try await client.call(.get, "/dashboard", key: f.key)
            #expect(page.status == .ok)
            #expect(page.text.contains("<svg class=\"chart\"") && page.text.contains("Alerts per day by severity"))
            let (today, _) = DashboardPage.window(now: Date(), zone: TimeZone(identifier: "UTC")!)
            let label = DashboardPage.label(today.last ?? "")
            #expect(page.text.contains("<th scope=\"row\">\(label)</th>"))
            #expect(page.text.contains("dash-1") && page.text.range(of: "dash-1")!.lowerBound < page.text.range(of: "dash-2")!.lowerBound)
            #expect(page.text.contains(": to acknowledge "), "the acknowledged alert gives a point on the line")
        }
    }
}
