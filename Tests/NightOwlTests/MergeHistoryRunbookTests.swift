import Foundation
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

@Suite struct IncidentMergeRuleTests {
    static func incident(_ solution: String, count: Int, severity: Severity = .warning, lists: [String] = [], runbook: UUID? = nil) -> Incident {
        Incident(id: UUID(), title: "t", fingerprints: lists, severity: severity, category: "", services: lists, clusters: [], namespaces: [],
                 tags: lists, symptoms: "", errorPatterns: lists, rootCause: "", solution: solution, runbookID: runbook, createdBy: "",
                 resolutionCount: count, lastSeenAt: nil, mergedIntoID: nil, mergedFromIDs: [], archivedAt: nil, createdAt: Date(), updatedAt: Date())
    }

    @Test(arguments: [
        ("target fix", 1, "source fix", 5, "source fix"),   // the source has resolved more alerts
        ("target fix", 5, "source fix", 1, "target fix"),
        ("target fix", 3, "source fix", 3, "target fix"),   // tie: the target's is kept
        ("", 9, "source fix", 0, "source fix"),             // an empty solution never wins
        ("target fix", 0, "", 9, "target fix"),
        ("", 0, "", 0, ""),
    ])
    func betterSolutionWins(targetSolution: String, targetCount: Int, sourceSolution: String, sourceCount: Int, expected: String) {
        let merged = IncidentMerge.merge(target: Self.incident(targetSolution, count: targetCount), source: Self.incident(sourceSolution, count: sourceCount))
        #expect(merged.solution == expected)
        #expect(merged.resolutionCount == targetCount + sourceCount)
    }

    @Test func listsAreUnionedAndSeverityIsTheHigher() {
        let runbook = UUID()
        let target = Self.incident("a", count: 0, severity: .warning, lists: ["x", "y"])
        let source = Self.incident("b", count: 0, severity: .critical, lists: ["y", "z"], runbook: runbook)
        let merged = IncidentMerge.merge(target: target, source: source)
        #expect(merged.fingerprints == ["x", "y", "z"])
        #expect(merged.services == ["x", "y", "z"])
        #expect(merged.errorPatterns == ["x", "y", "z"])
        #expect(merged.severity == .critical)
        #expect(merged.runbookID == runbook, "the target had no runbook")
        #expect(merged.mergedFromIDs == [source.id])
    }
}

@Suite struct IncidentMergeAndHistoryTests {
    @Test func mergeRepointsAlertsAndRecordsBothHistories() async throws {
        let f = try await NightOwlFixture.make()
        let (targetID, sourceID) = try await f.app.test { client in
            let target = try await client.createIncident(f.key, #"{"title":"DNS timeouts","severity":"major","fingerprints":["fp-a"],"services":["api"],"solution":"scale coredns"}"#)
            let source = try await client.createIncident(f.key, #"{"title":"CoreDNS overloaded","severity":"critical","fingerprints":["fp-b"],"services":["web"],"tags":["dns"],"solution":"enable nodelocal dns"}"#)
            return (target, source)
        }
        // Alerts that the source matched.
        try await f.app.database.withTenant(f.tenant.slug) { connection in
            for n in 0..<3 {
                try await connection.query("""
                    INSERT INTO alerts (fingerprint, status, severity, source, title, first_fired_at, last_fired_at, matched_incident_id)
                    VALUES (\("fp-b-\(n)"), 'firing', 'critical', 'alertmanager', 'dns', now(), now(), \(UUID(uuidString: sourceID)!))
                    """, logger: TestDatabase.logger)
            }
        }
        try await f.app.test { client in
            let merged = try await client.call(.post, "/api/v1/incidents/\(targetID)/merge", key: f.key, json: #"{"source_id":"\#(sourceID)"}"#)
            #expect(merged.status == .ok, "\(merged.text)")
            #expect(merged.json["alerts_repointed"]?.numberValue == 3)
            let target = try #require(merged.json["target"])
            #expect(target["fingerprints"] == .array([.string("fp-a"), .string("fp-b")]))
            #expect(target["services"] == .array([.string("api"), .string("web")]))
            #expect(target["severity"]?.stringValue == "critical")
            #expect(target["solution"]?.stringValue == "scale coredns")

            let source = try await client.call(.get, "/api/v1/incidents/\(sourceID)", key: f.key)
            #expect(source.json["merged_into_id"]?.stringValue?.lowercased() == targetID.lowercased())
            let list = try await client.call(.get, "/api/v1/incidents", key: f.key)
            #expect(list.json["total"]?.numberValue == 1, "the source leaves lists")
            let search = try await client.call(.get, "/api/v1/incidents/search?q=coredns", key: f.key)
            #expect(search.json["items"]?.arrayValue?.map { $0["id"]?.stringValue } == [targetID], "and search")
            #expect(try await client.call(.get, "/api/v1/incidents/fingerprint/fp-b", key: f.key).json["id"]?.stringValue == targetID)

            let again = try await client.call(.post, "/api/v1/incidents/\(targetID)/merge", key: f.key, json: #"{"source_id":"\#(sourceID)"}"#)
            #expect(again.status == .conflict)
            #expect(try await client.call(.post, "/api/v1/incidents/\(targetID)/merge", key: f.key, json: #"{"source_id":"\#(targetID)"}"#).status == .unprocessableContent)
            #expect(try await client.call(.post, "/api/v1/incidents/\(targetID)/merge", key: f.key, json: #"{"source_id":"\#(UUID())"}"#).status == .unprocessableContent)
            #expect(try await client.call(.put, "/api/v1/incidents/\(sourceID)", key: f.key, json: #"{"title":"x"}"#).status == .conflict)

            let targetHistory = try await client.call(.get, "/api/v1/incidents/\(targetID)/history", key: f.key)
            let targetTypes = targetHistory.json["items"]?.arrayValue?.compactMap { $0["change_type"]?.stringValue }
            #expect(targetTypes == ["created", "merged_from"])
            let sourceHistory = try await client.call(.get, "/api/v1/incidents/\(sourceID)/history", key: f.key)
            let last = try #require(sourceHistory.json["items"]?.arrayValue?.last)
            #expect(last["change_type"]?.stringValue == "merged_into")
            #expect(last["diff"]?["merged_into_id"]?["new"]?.stringValue?.lowercased() == targetID.lowercased())
            #expect(last["changed_by"]?.stringValue?.hasPrefix("api_key:") == true)
        }
        let pointing = try await f.app.database.scalar("SELECT count(*) FROM alerts WHERE matched_incident_id = \(UUID(uuidString: targetID)!)", in: f.tenant.slug, as: Int.self) ?? 0
        #expect(pointing == 3)
    }

    @Test func historyIsWrittenByTheDatabaseWhateverTheCodePath() async throws {
        let f = try await NightOwlFixture.make()
        let id = try await f.app.test { client in
            let id = try await client.createIncident(f.key, #"{"title":"Before","severity":"info","solution":"old"}"#)
            _ = try await client.call(.put, "/api/v1/incidents/\(id)", key: f.key, json: #"{"title":"After","solution":"new"}"#)
            _ = try await client.call(.put, "/api/v1/incidents/\(id)", key: f.key, json: #"{"title":"After"}"#)
            return id
        }
        // A direct SQL update, bypassing the API, is recorded too (with the actor from the transaction setting).
        try await f.app.database.withTenant(f.tenant.slug, actor: "maintenance-script") { connection in
            try await connection.query("UPDATE incidents SET category = 'db' WHERE id = \(UUID(uuidString: id)!)", logger: TestDatabase.logger)
        }
        try await f.app.test { client in
            let history = try await client.call(.get, "/api/v1/incidents/\(id)/history", key: f.key)
            let items = try #require(history.json["items"]?.arrayValue)
            #expect(items.compactMap { $0["change_type"]?.stringValue } == ["created", "updated", "updated"], "a no-op update leaves no entry")
            #expect(items[1]["diff"]?["title"]?["old"]?.stringValue == "Before")
            #expect(items[1]["diff"]?["title"]?["new"]?.stringValue == "After")
            #expect(items[1]["diff"]?["solution"]?["new"]?.stringValue == "new")
            #expect(items[1]["diff"]?["updated_at"] == nil)
            #expect(items[2]["changed_by"]?.stringValue == "maintenance-script")
            #expect(try await client.call(.get, "/api/v1/incidents/\(UUID())/history", key: f.key).status == .notFound)
        }
    }
}

@Suite struct RunbookTests {
    @Test func templatesAreShippedAndReadOnly() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let templates = try await client.call(.get, "/api/v1/runbooks/templates", key: f.key)
            let items = try #require(templates.json["items"]?.arrayValue)
            #expect(Set(items.compactMap { $0["template_key"]?.stringValue }) == Set(RunbookTemplate.catalogue.map(\.key)))
            for item in items {
                let content = item["content"]?.stringValue ?? ""
                #expect(content.contains("kubectl") && content.contains("## Diagnose") && content.contains("## Escalate"), "\(item["title"] ?? .null)")
            }
            let id = try #require(items.first?["id"]?.stringValue)
            #expect(try await client.call(.put, "/api/v1/runbooks/\(id)", key: f.key, json: #"{"title":"mine"}"#).status == .conflict)
            #expect(try await client.call(.delete, "/api/v1/runbooks/\(id)", key: f.key).status == .conflict)
        }
        // Running the migrations again keeps exactly one copy of each template.
        try await Migrator(database: f.app.database, migrations: NightOwlService.definition.allMigrations).migrateTenant(f.tenant.slug)
        let count = try await f.app.database.scalar("SELECT count(*) FROM runbooks WHERE template_key IS NOT NULL", in: f.tenant.slug, as: Int.self) ?? 0
        #expect(count == 7)
    }

    @Test func crudAndLinkingToIncidents() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let created = try await client.call(.post, "/api/v1/runbooks", key: f.key, json: #"{"title":"Restart the cache","content":"1. kubectl rollout restart","category":"cache","tags":["redis"]}"#)
            #expect(created.status == .created)
            let id = try #require(created.json["id"]?.stringValue)
            #expect(created.json["is_template"]?.boolValue == false)

            let incident = try await client.createIncident(f.key, #"{"title":"Cache misses","severity":"warning","runbook_id":"\#(id)"}"#)
            let detail = try await client.call(.get, "/api/v1/incidents/\(incident)", key: f.key)
            #expect(detail.json["runbook"]?["title"]?.stringValue == "Restart the cache")
            #expect(detail.json["runbook"]?["content"]?.stringValue == "1. kubectl rollout restart")

            let updated = try await client.call(.put, "/api/v1/runbooks/\(id)", key: f.key, json: #"{"content":"1. kubectl rollout restart deploy/cache"}"#)
            #expect(updated.json["title"]?.stringValue == "Restart the cache")
            let mine = try await client.call(.get, "/api/v1/runbooks?template=false", key: f.key)
            #expect(mine.json["total"]?.numberValue == 1)
            let byTag = try await client.call(.get, "/api/v1/runbooks?tag=redis", key: f.key)
            #expect(byTag.json["total"]?.numberValue == 1)

            let unlinked = try await client.call(.put, "/api/v1/incidents/\(incident)", key: f.key, json: #"{"runbook_id":null}"#)
            #expect(unlinked.json["runbook_id"] == nil || unlinked.json["runbook_id"] == .null)

            let engineer = try #require(try await client.call(.post, "/api/v1/api-keys", key: f.key, json: #"{"role":"engineer"}"#).json["key"]?.stringValue)
            #expect(try await client.call(.delete, "/api/v1/runbooks/\(id)", key: engineer).status == .forbidden)
            #expect(try await client.call(.delete, "/api/v1/runbooks/\(id)", key: f.key).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/runbooks/\(id)", key: f.key).status == .notFound)

            #expect(try await client.call(.post, "/api/v1/runbooks", key: f.key, json: #"{"content":"no title"}"#).status == .unprocessableContent)
            #expect(try await client.call(.post, "/api/v1/runbooks", key: f.key, json: #"{"title":"x","tags":[1]}"#).status == .unprocessableContent)
        }
    }

    @Test func demoKnowledgeBase() async throws {
        let database = try await TestDatabase.isolatedDatabase()
        try await Seeder(definition: NightOwlService.definition, database: database).seedDemo()
        let app = try await TestApp.make(definition: NightOwlService.definition, database: database)
        try await app.test { client in
            let list = try await client.call(.get, "/api/v1/incidents", key: Seeder.devAPIKey)
            #expect((list.json["total"]?.numberValue ?? 0) >= 30)
            let hit = try await client.call(.get, "/api/v1/incidents/fingerprint/demo-crashloop-payments-api", key: Seeder.devAPIKey)
            #expect(hit.json["runbook"]?["template_key"]?.stringValue == "k8s-pod-crashloop")
            let search = try await client.call(.get, "/api/v1/incidents/search?q=coredns", key: Seeder.devAPIKey)
            #expect((search.json["total"]?.numberValue ?? 0) >= 5)
        }
    }
}
