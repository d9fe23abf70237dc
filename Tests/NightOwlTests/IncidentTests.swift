import Foundation
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

@Suite struct IncidentCRUDTests {
    @Test func createReadUpdateArchive() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let created = try await client.call(.post, "/api/v1/incidents", key: f.key, json: """
                {"title":"  Disk full on db-1 ","severity":"major","category":"storage","services":["orders","orders"],
                 "fingerprints":["fp-disk-1"],"tags":["disk"],"symptoms":"writes fail","error_patterns":["No space left on device"],
                 "root_cause":"WAL archive stuck","solution":"Clear archive, fix archiver"}
                """)
            #expect(created.status == .created)
            #expect(created.json["title"]?.stringValue == "Disk full on db-1")
            #expect(created.json["services"] == .array([.string("orders")]), "lists are de-duplicated")
            let id = try #require(created.json["id"]?.stringValue)

            let fetched = try await client.call(.get, "/api/v1/incidents/\(id)", key: f.key)
            #expect(fetched.json["severity"]?.stringValue == "major")
            #expect(fetched.json["runbook"] == nil || fetched.json["runbook"] == .null)

            let updated = try await client.call(.put, "/api/v1/incidents/\(id)", key: f.key, json: #"{"severity":"critical","tags":["disk","postgres"]}"#)
            #expect(updated.json["severity"]?.stringValue == "critical")
            #expect(updated.json["solution"]?.stringValue == "Clear archive, fix archiver", "fields not sent are kept")

            let byFingerprint = try await client.call(.get, "/api/v1/incidents/fingerprint/fp-disk-1", key: f.key)
            #expect(byFingerprint.json["id"]?.stringValue == id)
            #expect(try await client.call(.get, "/api/v1/incidents/fingerprint/unknown-fp", key: f.key).status == .notFound)

            let archived = try await client.call(.delete, "/api/v1/incidents/\(id)", key: f.key)
            #expect(archived.status == .ok)
            #expect(archived.json["archived_at"]?.stringValue != nil)
            #expect(try await client.call(.get, "/api/v1/incidents", key: f.key).json["total"]?.numberValue == 0)
            #expect(try await client.call(.get, "/api/v1/incidents?include_archived=true", key: f.key).json["total"]?.numberValue == 1)
            #expect(try await client.call(.get, "/api/v1/incidents/search?q=disk", key: f.key).json["total"]?.numberValue == 0)
            #expect(try await client.call(.get, "/api/v1/incidents/search?q=disk&include_archived=true", key: f.key).json["total"]?.numberValue == 1)
            #expect(try await client.call(.get, "/api/v1/incidents/fingerprint/fp-disk-1", key: f.key).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/incidents/\(id)", key: f.key).status == .ok, "archived entries stay readable by id")
        }
    }

    @Test func listFilters() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            _ = try await client.createIncident(f.key, #"{"title":"A","severity":"critical","category":"network","services":["api"],"tags":["dns","edge"]}"#)
            _ = try await client.createIncident(f.key, #"{"title":"B","severity":"major","category":"network","services":["web"],"tags":["dns"]}"#)
            _ = try await client.createIncident(f.key, #"{"title":"C","severity":"warning","category":"storage","services":["api"],"tags":["disk"]}"#)
            func titles(_ query: String) async throws -> [String] {
                let response = try await client.call(.get, "/api/v1/incidents?\(query)", key: f.key)
                return (response.json["items"]?.arrayValue ?? []).compactMap { $0["title"]?.stringValue }.sorted()
            }
            #expect(try await titles("severity=critical,major") == ["A", "B"])
            #expect(try await titles("severity=critical&severity=warning") == ["A", "C"])
            #expect(try await titles("category=network") == ["A", "B"])
            #expect(try await titles("service=api") == ["A", "C"])
            #expect(try await titles("tags=dns,edge") == ["A"])
            #expect(try await titles("limit=1&offset=1").count == 1)
            let bad = try await client.call(.get, "/api/v1/incidents?severity=catastrophic", key: f.key)
            #expect(bad.status == .unprocessableContent)
        }
    }

    @Test(arguments: [
        (#"{"severity":"major"}"#, 422, "title"),
        (#"{"title":"   ","severity":"major"}"#, 422, "title"),
        (#"{"title":"x"}"#, 422, "severity"),
        (#"{"title":"x","severity":"apocalyptic"}"#, 422, "severity"),
        (#"{"title":"x","severity":"major","tags":"not-a-list"}"#, 422, "tags"),
        (#"{"title":"x","severity":"major","runbook_id":"not-a-uuid"}"#, 422, "runbook_id"),
        (#"{"title":"x","severity":"major","runbook_id":"6f1c7a40-0000-4000-8000-000000000000"}"#, 422, "runbook_id"),
        (#"{"title":"x","severity":"major","symptoms":"\#(String(repeating: "s", count: 20_001))"}"#, 422, "symptoms"),
        (#"{"title":"\#(String(repeating: "t", count: 501))","severity":"major"}"#, 422, "title"),
        (#"{"title":"x","severity":"major","services":[""]}"#, 422, "services"),
        (#"{"title":"x\u0002","severity":"major"}"#, 422, "title"),
        (#"{"title":"x","severity":"major""#, 400, ""),
    ])
    func badInput(body: String, status: Int, field: String) async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let response = try await client.call(.post, "/api/v1/incidents", key: f.key, json: body)
            #expect(Int(response.status.code) == status, "\(response.text)")
            if !field.isEmpty { #expect(response.json["error"]?["details"]?["field"]?.stringValue == field) }
            #expect(try await client.call(.get, "/api/v1/incidents?include_archived=true", key: f.key).json["total"]?.numberValue == 0)
            #expect(try await client.call(.get, "/api/v1/incidents/not-a-uuid", key: f.key).status == .badRequest)
            #expect(try await client.call(.put, "/api/v1/incidents/\(UUID())", key: f.key, json: #"{"title":"y"}"#).status == .notFound)
        }
    }

    @Test func readonlyCannotWrite() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let key = try #require(try await client.call(.post, "/api/v1/api-keys", key: f.key, json: #"{"role":"readonly"}"#).json["key"]?.stringValue)
            #expect(try await client.call(.post, "/api/v1/incidents", key: key, json: #"{"title":"x","severity":"info"}"#).status == .forbidden)
            #expect(try await client.call(.get, "/api/v1/incidents", key: key).status == .ok)
        }
    }
}

@Suite struct IncidentSearchTests {
    static func seed(_ client: any TestClientProtocol, _ key: String) async throws -> [String: String] {
        var ids: [String: String] = [:]
        ids["crash"] = try await client.createIncident(key, #"{"title":"Pod CrashLoopBackOff in payments","severity":"critical","symptoms":"pods restart","solution":"roll back the release"}"#)
        ids["oom"] = try await client.createIncident(key, #"{"title":"Container OOMKilled under load","severity":"major","error_patterns":["exit code 137"],"solution":"raise memory limit"}"#)
        ids["cert"] = try await client.createIncident(key, #"{"title":"TLS certificate expiry on ingress","severity":"critical","symptoms":"x509 errors","solution":"renew with cert-manager"}"#)
        ids["titleHit"] = try await client.createIncident(key, #"{"title":"Kafka consumer lag","severity":"warning","solution":"restart consumers"}"#)
        ids["solutionHit"] = try await client.createIncident(key, #"{"title":"Order emails delayed","severity":"info","solution":"the kafka topic needed more partitions"}"#)
        ids["html"] = try await client.createIncident(key, #"{"title":"Page shows <script>alert(1)</script> banner","severity":"info","symptoms":"the <b>banner</b> renders raw"}"#)
        return ids
    }

    @Test(arguments: [("crashloop", "crash"), ("oom", "oom"), ("cert expir", "cert"), ("OOMKilled", "oom"), ("\"exit code 137\"", "oom"),
                      ("crashlop", "crash")])
    func fragmentsFindEntries(query: String, expected: String) async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let ids = try await Self.seed(client, f.key)
            let q = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
            let response = try await client.call(.get, "/api/v1/incidents/search?q=\(q)", key: f.key)
            #expect(response.status == .ok)
            #expect(response.json["items"]?.arrayValue?.first?["id"]?.stringValue == ids[expected], "\(query): \(response.text)")
        }
    }

    /// Fragments complete to the words the knowledge base holds (also words added by an update); numbers match only
    /// exactly; an unknown word is replaced by its nearest known words (a typo).
    @Test func queryWordsResolveAgainstKnownWords() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let ids = try await Self.seed(client, f.key)
            let outage = try await client.createIncident(f.key, #"{"title":"Gateway answers HTTP 503","severity":"major"}"#)
            func found(_ q: String) async throws -> [String] {
                let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
                let response = try await client.call(.get, "/api/v1/incidents/search?q=\(encoded)", key: f.key)
                #expect(response.status == .ok)
                return (response.json["items"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            }
            #expect(try await found("503") == [outage])
            #expect(try await found("50").isEmpty, "numbers are not completed")
            #expect(try await found("kafak").first == ids["titleHit"], "a typo finds the word it was meant to be")
            #expect(try await found("zookeep").isEmpty)
            let update = try await client.call(.put, "/api/v1/incidents/\(ids["titleHit"]!)", key: f.key,
                                               json: #"{"title":"Kafka consumer lag behind ZooKeeper"}"#)
            #expect(update.status == .ok)
            #expect(try await found("zookeep") == [ids["titleHit"]!])
        }
    }

    @Test func titleHitOutranksSolutionHit() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let ids = try await Self.seed(client, f.key)
            let response = try await client.call(.get, "/api/v1/incidents/search?q=kafka", key: f.key)
            let order = (response.json["items"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            #expect(order == [ids["titleHit"]!, ids["solutionHit"]!])
            let ranks = (response.json["items"]?.arrayValue ?? []).compactMap { $0["rank"]?.numberValue }
            #expect(ranks.count == 2 && ranks[0] > ranks[1])
        }
    }

    /// A query decided by one word is answered from the per-word postings (migration 0011); its totals, order and
    /// pages must be those of the general path, and the postings must follow every write: archive, edit, merge.
    @Test func oneWordQueriesFollowEveryWrite() async throws {
        let f = try await NightOwlFixture.make()
        let both = try await f.app.test { client in try await client.createIncident(f.key, #"{"title":"etcd leader election lost","severity":"critical"}"#) }
        try await f.app.test { client in
            let title = try await client.createIncident(f.key, #"{"title":"etcd disk latency","severity":"major"}"#)
            let symptoms = try await client.createIncident(f.key, #"{"title":"API server slow","severity":"major","symptoms":"etcd requests time out"}"#)
            let solution = try await client.createIncident(f.key, #"{"title":"Control plane flapping","severity":"warning","solution":"defragment etcd"}"#)
            let archived = try await client.createIncident(f.key, #"{"title":"etcd backup failed","severity":"info"}"#)
            #expect(try await client.call(.delete, "/api/v1/incidents/\(archived)", key: f.key).status == .ok)
            func search(_ q: String, _ extra: String = "") async throws -> (ids: [String], total: Int, ranks: [Double]) {
                let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
                let response = try await client.call(.get, "/api/v1/incidents/search?q=\(encoded)\(extra)", key: f.key)
                #expect(response.status == .ok, "\(q): \(response.text)")
                let items = response.json["items"]?.arrayValue ?? []
                return (items.compactMap { $0["id"]?.stringValue }, Int(response.json["total"]?.numberValue ?? -1),
                        items.compactMap { $0["rank"]?.numberValue })
            }

            let excluding = try await search("etcd -leader")
            #expect(excluding.ids == [title, symptoms, solution], "ranked by the word, not flattened by the exclusion")
            #expect(excluding.total == 3)
            #expect(excluding.ranks == excluding.ranks.sorted(by: >) && excluding.ranks.first! > excluding.ranks.last!)
            let single = try await search("etcd")
            #expect(single.total == 4)
            #expect(Set(single.ids.prefix(2)) == [both, title] && single.ids.suffix(2) == [symptoms, solution])
            let second = try await search("etcd -leader", "&limit=1&offset=1")
            #expect(second.ids == [symptoms] && second.total == 3)
            let pastTheEnd = try await search("etcd -leader", "&offset=10")
            #expect(pastTheEnd.ids.isEmpty && pastTheEnd.total == 3)
            let withArchived = try await search("etcd", "&include_archived=true")
            #expect(withArchived.total == 5 && withArchived.ids.contains(archived))

            #expect(try await client.call(.delete, "/api/v1/incidents/\(title)", key: f.key).status == .ok)
            #expect(try await search("etcd -leader").ids == [symptoms, solution])
            let edited = try await client.call(.put, "/api/v1/incidents/\(symptoms)", key: f.key, json: #"{"symptoms":"requests time out"}"#)
            #expect(edited.status == .ok)
            #expect(try await search("etcd -leader").ids == [solution])
            #expect(try await search("request").ids == [symptoms], "the edited entry's new words")
            let merged = try await client.call(.post, "/api/v1/incidents/\(both)/merge", key: f.key, json: #"{"source_id":"\#(solution)"}"#)
            #expect(merged.status == .ok)
            let afterMerge = try await search("etcd")
            #expect(afterMerge.ids == [both] && afterMerge.total == 1, "the source leaves search; the target holds its words")
            #expect(try await search("defragment").ids == [both])
        }
        // A write that names the schema, with the connection's own search_path, still keeps postings, words and history.
        _ = try await f.app.database.withConnection { connection in
            try await connection.query("""
                UPDATE \(unescaped: f.tenant.slug.quotedSchema).incidents SET title = 'etcd quorum lost' WHERE id = \(UUID(uuidString: both)!)
                """, logger: TestDatabase.logger)
        }
        try await f.app.test { client in
            let response = try await client.call(.get, "/api/v1/incidents/search?q=quorum", key: f.key)
            #expect(response.json["items"]?.arrayValue?.map { $0["id"]?.stringValue } == [both])
            let history = try await client.call(.get, "/api/v1/incidents/\(both)/history", key: f.key)
            #expect(history.text.contains("etcd quorum lost"))
        }
        // The postings are exactly what the searchable entries hold.
        let mismatches = try await f.app.database.withTenant(f.tenant.slug) { connection -> Int in
            let rows = try await connection.query("""
                WITH expected AS (
                    SELECT w.lexeme, i.id AS incident_id, incident_word_rank(i.search_vector, w.lexeme) AS rank
                    FROM incidents i, unnest(i.search_vector) AS w WHERE i.archived_at IS NULL AND i.merged_into_id IS NULL
                ), actual AS (SELECT lexeme, incident_id, rank FROM incident_postings)
                SELECT (SELECT count(*) FROM (SELECT * FROM expected EXCEPT ALL SELECT * FROM actual) a)
                     + (SELECT count(*) FROM (SELECT * FROM actual EXCEPT ALL SELECT * FROM expected) b)
                """, logger: TestDatabase.logger)
            for try await n in rows.decode(Int.self) { return n }
            return -1
        }
        #expect(mismatches == 0)
    }

    @Test func websearchSyntax() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let ids = try await Self.seed(client, f.key)
            func found(_ q: String) async throws -> Set<String> {
                let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
                let response = try await client.call(.get, "/api/v1/incidents/search?q=\(encoded)", key: f.key)
                return Set((response.json["items"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
            }
            #expect(try await found("kafka -partitions") == [ids["titleHit"]!])
            #expect(try await found("crashloop OR oomkilled") == [ids["crash"]!, ids["oom"]!])
            #expect(try await found("zzzz-nothing-matches").isEmpty)
        }
    }

    @Test func highlightsAreSafeHTML() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            _ = try await Self.seed(client, f.key)
            let response = try await client.call(.get, "/api/v1/incidents/search?q=banner", key: f.key)
            let highlights = try #require(response.json["items"]?.arrayValue?.first?["highlights"])
            let title = try #require(highlights["title"]?.stringValue)
            #expect(title.contains("&lt;script&gt;"))
            #expect(!title.contains("<script>"))
            #expect(title.contains("<mark>banner</mark>"))
            let symptoms = try #require(highlights["symptoms"]?.stringValue)
            // PostgreSQL's parser drops markup tags from headlines; whatever remains is escaped text.
            #expect(symptoms.contains("<mark>banner</mark>"))
            #expect(!symptoms.contains("<b>"))
        }
    }

    /// Headlines are asked only for the fields whose weight holds a word of the query; every field that has a match
    /// must still get its highlight, whatever kind of query found the entry.
    @Test func everyFieldWithAMatchIsHighlighted() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            _ = try await client.createIncident(f.key, """
                {"title":"Alpha gateway stalls","severity":"major","error_patterns":["bravo handshake refused"],
                 "symptoms":"charlie queue grows","root_cause":"delta lock held","solution":"restart the echo worker"}
                """)
            func marked(_ q: String) async throws -> Set<String> {
                let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
                let response = try await client.call(.get, "/api/v1/incidents/search?q=\(encoded)", key: f.key)
                let highlights = response.json["items"]?.arrayValue?.first?["highlights"]?.objectValue ?? [:]
                #expect(highlights["title"]?.stringValue != nil, "the title is always there, marked or not")
                return Set(highlights.compactMap { $0.value.stringValue?.contains("<mark>") == true ? $0.key : nil })
            }
            #expect(try await marked("alpha") == ["title"])
            #expect(try await marked("bravo") == ["error_patterns"])
            #expect(try await marked("charlie") == ["symptoms"])
            #expect(try await marked("delta") == ["root_cause"])
            #expect(try await marked("echo") == ["solution"])
            #expect(try await marked("charl") == ["symptoms"], "a fragment")
            #expect(try await marked("alpha echo") == ["title", "solution"])
            #expect(try await marked("bravo OR zulu") == ["error_patterns"])
            #expect(try await marked("\"delta lock\"") == ["root_cause"])
            #expect(try await marked("gateway -\"charlie lock\"") == ["title", "symptoms", "root_cause"],
                    "the words of an exclusion that did not exclude the entry are marked too")
            #expect(try await marked("stall").contains("title"), "a stemmed word")
        }
        let words = try await f.app.database.withTenant(f.tenant.slug) { connection -> [String] in
            let rows = try await connection.query("""
                SELECT incident_query_words(q)::text FROM unnest(ARRAY[
                    '''etcd'' & !''leader''', '''connect'' <-> ''refus''', '''crash'':*AB | ''o''''brien''', '''a\\\\b'' & ''c'''
                ]::tsquery[]) AS q
                """, logger: TestDatabase.logger)
            var out: [String] = []
            for try await text in rows.decode(String.self) { out.append(text) }
            return out
        }
        #expect(words == ["'etcd' | 'leader'", "'connect' | 'refus'", "'crash':* | 'o''brien'", "'a\\\\b' | 'c'"])
    }

    @Test(arguments: ["", "%20%20", String(repeating: "a", count: 201)])
    func badQueries(q: String) async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let response = try await client.call(.get, "/api/v1/incidents/search?q=\(q)", key: f.key)
            #expect(response.status == .unprocessableContent)
        }
    }

    @Test func oddCharactersNeverBreakTheQuery() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            _ = try await Self.seed(client, f.key)
            for q in ["o'brien", "a:b", "\\", "&|!()", "'''", "-", "\"unterminated", "<->", "ünïcødé"] {
                let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
                #expect(try await client.call(.get, "/api/v1/incidents/search?q=\(encoded)", key: f.key).status == .ok, "\(q)")
            }
        }
    }
}

/// Entries and search results are written by hand for list responses; they must be JSONEncoder's bytes.
@Suite struct IncidentJSONTests {
    @Test(arguments: [true, false])
    func handWrittenMatchesJSONEncoder(optionalsSet: Bool) throws {
        let incident = Incident(
            id: UUID(), title: "Pod \"CrashLoopBackOff\" / payments", fingerprints: ["a", "b/c"], severity: .critical, category: "k8s",
            services: ["payments"], clusters: ["prod-eu"], namespaces: ["pay"], tags: ["t1", "t2"], symptoms: "line one\nline two",
            errorPatterns: ["exit code 137"], rootCause: "é 🦉", solution: "roll back\\redeploy",
            runbookID: optionalsSet ? UUID() : nil, createdBy: "alice", resolutionCount: 3,
            lastSeenAt: optionalsSet ? Date(timeIntervalSince1970: 1_790_000_000.5) : nil, mergedIntoID: optionalsSet ? UUID() : nil,
            mergedFromIDs: optionalsSet ? [UUID(), UUID()] : [], archivedAt: optionalsSet ? Date() : nil,
            createdAt: Date(timeIntervalSince1970: 1_780_000_000), updatedAt: Date())
        #expect(incident.jsonObject() == String(decoding: try JSON.encoder.encode(incident), as: UTF8.self))
        let result = IncidentSearchResult(incident: incident, rank: optionalsSet ? 0.6079270839691162 : 1,
                                          highlights: ["title": "Pod <mark>CrashLoopBackOff</mark>", "solution": "&lt;b&gt;"])
        let list = OffsetList(items: [result, result], total: 7, page: OffsetPage(limit: 2, offset: 0))
        #expect(list.jsonDocument() == String(decoding: try JSON.encoder.encode(list), as: UTF8.self))
    }

    @Test(arguments: [("plain", "plain"), ("\u{2}Pod\u{3} <b>\"x\"</b> & 'y'", "<mark>Pod</mark> &lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; &#39;y&#39;"),
                      ("\"\u{301}", "&quot;\u{301}")])
    func highlightsEscapeEverythingButTheMarks(headline: String, expected: String) {
        #expect(IncidentSearch.highlight(headline) == expected)
    }
}
