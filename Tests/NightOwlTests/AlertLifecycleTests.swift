import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import NIOCore
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

@Suite struct AlertConcurrencyTests {
    /// 1,000 identical webhooks over 16 connections: one alert, counted 1,000 times.
    @Test func concurrentDuplicatesMakeOneAlertAndLoseNoCount() async throws {
        let f = try await NightOwlFixture.make()
        let key = f.key
        try await f.app.live { client in
            let port = try #require(client.port)
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let body = Payloads.alertmanager(fingerprint: "storm-1")
            let failures = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        var failed = 0
                        for _ in stride(from: worker, to: 1000, by: 16) {
                            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/webhooks/alertmanager")
                            request.method = .POST
                            request.headers.add(name: "X-API-Key", value: key)
                            request.headers.add(name: "Content-Type", value: "application/json")
                            request.body = .bytes(ByteBuffer(string: body))
                            let response = try await http.execute(request, timeout: .seconds(30))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            if response.status != .ok { failed += 1 }
                        }
                        return failed
                    }
                }
                return try await group.reduce(0, +)
            }
            try await http.shutdown()
            #expect(failures == 0)
        }
        let (count, occurrences) = try await f.app.database.withTenant(f.tenant.slug) { connection -> (Int, Int) in
            let rows = try await connection.query("SELECT count(*), coalesce(sum(occurrence_count), 0)::int FROM alerts WHERE fingerprint = 'storm-1'", logger: TestDatabase.logger)
            for try await (n, sum) in rows.decode((Int, Int).self) { return (n, sum) }
            return (0, 0)
        }
        #expect(count == 1)
        #expect(occurrences == 1000)
    }
}

@Suite struct AlertEnrichmentTests {
    @Test func fingerprintThenTextMatch() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let runbook = try #require(try await client.call(.get, "/api/v1/runbooks/templates", key: f.key).json["items"]?.arrayValue?
                .first { $0["template_key"]?.stringValue == "k8s-pod-crashloop" }?["id"]?.stringValue)
            let byFingerprint = try await client.createIncident(f.key, #"{"title":"Payment gateway restarts","severity":"critical","fingerprints":["abc123def456"],"solution":"Roll back the release","runbook_id":"\#(runbook)"}"#)
            let byText = try await client.createIncident(f.key, #"{"title":"Certificate expired on ingress","severity":"critical","error_patterns":["x509: certificate has expired"],"solution":"Renew with cert-manager"}"#)

            _ = try await client.call(.post, "/api/v1/webhooks/alertmanager", key: f.key, json: Payloads.alertmanager())
            let matched = try #require(try await client.call(.get, "/api/v1/alerts?fingerprint=abc123def456", key: f.key).json["items"]?.arrayValue?.first)
            #expect(matched["matched_incident_id"]?.stringValue?.lowercased() == byFingerprint.lowercased())
            #expect(matched["suggested_solution"]?.stringValue == "Roll back the release")
            #expect(matched["enrichment_source"]?.stringValue == "kb_fingerprint")
            #expect(matched["runbook_url"]?.stringValue == "https://runbooks.example.com/pod-crashloop", "the alert's own runbook link wins")

            _ = try await client.call(.post, "/api/v1/webhooks/generic", key: f.key, json: #"{"title":"x509: certificate has expired for api.example.com","severity":"critical","fingerprint":"tls-1"}"#)
            let text = try #require(try await client.call(.get, "/api/v1/alerts?fingerprint=tls-1", key: f.key).json["items"]?.arrayValue?.first)
            #expect(text["matched_incident_id"]?.stringValue?.lowercased() == byText.lowercased())
            #expect(text["enrichment_source"]?.stringValue == "kb_text")

            _ = try await client.call(.post, "/api/v1/webhooks/generic", key: f.key, json: #"{"title":"Printer out of paper","fingerprint":"paper-1"}"#)
            let unknown = try #require(try await client.call(.get, "/api/v1/alerts?fingerprint=paper-1", key: f.key).json["items"]?.arrayValue?.first)
            #expect(unknown["matched_incident_id"] == nil || unknown["matched_incident_id"] == .null)

            let detail = try await client.call(.get, "/api/v1/alerts/\(try #require(matched["id"]?.stringValue))", key: f.key)
            #expect(detail.json["incident"]?["title"]?.stringValue == "Payment gateway restarts")

            let metrics = try await client.call(.get, "/metrics").text
            #expect(metrics.contains("nightowl_kb_hits_total 2"))
            #expect(metrics.contains(#"nightowl_alerts_received_total{source="alertmanager",severity="critical"} 1"#))
        }
    }

    @Test func agentResolvedAlertsTeachTheKnowledgeBase() async throws {
        let f = try await NightOwlFixture.make()
        let body = """
            {"title":"OOM Kill - payment-gateway","severity":"warning","fingerprint":"oom-payment-gateway-prod","source":"remediation-agent",
             "agent_metadata":{"agent_id":"k8s-healer-01","action_taken":"Increased memory limit from 256Mi to 512Mi and restarted pod",
             "action_result":"success","auto_resolved":true,"confidence":0.95}}
            """
        try await f.app.test { client in
            let first = try await client.call(.post, "/api/v1/webhooks/generic", key: f.key, json: body)
            #expect(first.json["alerts"]?.arrayValue?.first?["result"]?.stringValue == "resolved", "\(first.text)")
            let alert = try #require(try await client.call(.get, "/api/v1/alerts", key: f.key).json["items"]?.arrayValue?.first)
            #expect(alert["status"]?.stringValue == "resolved")
            #expect(alert["resolved_by"]?.stringValue == "generic:remediation-agent")
            #expect(alert["agent_metadata"]?["agent_id"]?.stringValue == "k8s-healer-01")
            let entry = try await client.call(.get, "/api/v1/incidents/fingerprint/oom-payment-gateway-prod", key: f.key)
            #expect(entry.json["solution"]?.stringValue == "Increased memory limit from 256Mi to 512Mi and restarted pod")
            #expect(entry.json["created_by"]?.stringValue == "agent:k8s-healer-01")
            #expect(entry.json["resolution_count"]?.numberValue == 1)

            _ = try await client.call(.post, "/api/v1/webhooks/generic", key: f.key, json: body)
            let again = try await client.call(.get, "/api/v1/incidents/fingerprint/oom-payment-gateway-prod", key: f.key)
            #expect(again.json["resolution_count"]?.numberValue == 2, "the known entry counts one more resolution")
            #expect(try await client.call(.get, "/api/v1/incidents", key: f.key).json["total"]?.numberValue == 1)
            #expect(try await client.call(.get, "/metrics").text.contains("nightowl_alerts_agent_resolved_total 2"))
        }
    }
}

@Suite struct AlertLifecycleTests {
    @Test func acknowledgeAndResolveAreIdempotentAuditedAndNotified() async throws {
        let f = try await NightOwlFixture.make()
        let id = try await f.app.test { client in
            let response = try await client.call(.post, "/api/v1/webhooks/generic", key: f.key, json: #"{"title":"Queue backlog","fingerprint":"q-1"}"#)
            return try #require(response.json["alerts"]?.arrayValue?.first?["alert_id"]?.stringValue)
        }
        let notifications = try await f.app.database.client.withConnection { connection in
            try await connection.listen(on: AlertStore.channel) { sequence in
                try await f.app.test { client in
                    let ack = try await client.call(.patch, "/api/v1/alerts/\(id)/acknowledge", key: f.key)
                    #expect(ack.json["changed"]?.boolValue == true)
                    #expect(ack.json["alert"]?["status"]?.stringValue == "acknowledged")
                    #expect(ack.json["alert"]?["acknowledged_by"]?.stringValue?.hasPrefix("api_key:") == true)
                    let again = try await client.call(.patch, "/api/v1/alerts/\(id)/acknowledge", key: f.key)
                    #expect(again.status == .ok)
                    #expect(again.json["changed"]?.boolValue == false)
                    #expect(again.json["message"]?.stringValue == "already acknowledged")

                    let resolved = try await client.call(.patch, "/api/v1/alerts/\(id)/resolve", key: f.key, json: #"{"notes":"drained the queue"}"#)
                    #expect(resolved.json["changed"]?.boolValue == true)
                    #expect(resolved.json["kb_prompt"]?.boolValue == true, "the knowledge base does not know this alert")
                    #expect(resolved.json["alert"]?["resolution_notes"]?.stringValue == "drained the queue")
                    let twice = try await client.call(.patch, "/api/v1/alerts/\(id)/resolve", key: f.key)
                    #expect(twice.json["changed"]?.boolValue == false)
                    #expect(try await client.call(.patch, "/api/v1/alerts/\(id)/resolve", key: f.key, json: #"{"notes":7}"#).status == .unprocessableContent)
                    #expect(try await client.call(.patch, "/api/v1/alerts/\(UUID())/acknowledge", key: f.key).status == .notFound)
                    #expect(try await client.call(.patch, "/api/v1/alerts/nope/acknowledge", key: f.key).status == .badRequest)
                }
                var events: [String] = []
                for try await notification in sequence {
                    let payload = JSONValue.parse(notification.payload)
                    if payload?["alert_ids"]?.arrayValue?.contains(.string(id.lowercased())) == true, let event = payload?["event"]?.stringValue {
                        events.append(event)
                    }
                    if events.count == 2 { break }
                }
                return events
            }
        }
        #expect(notifications == ["acknowledged", "resolved"])
        await f.app.platform.audit.flush()
        try await f.app.test { client in
            let audit = try await client.call(.get, "/api/v1/audit-log?resource=alert", key: f.key)
            #expect(audit.json["items"]?.arrayValue?.compactMap { $0["action"]?.stringValue } == ["alert.resolve", "alert.acknowledge"])
        }
    }

    @Test func resolvingAKnownAlertCountsForItsEntry() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let incident = try await client.createIncident(f.key, #"{"title":"Known","severity":"major","fingerprints":["known-1"]}"#)
            let sent = try await client.call(.post, "/api/v1/webhooks/generic", key: f.key, json: #"{"title":"Known thing","fingerprint":"known-1"}"#)
            let id = try #require(sent.json["alerts"]?.arrayValue?.first?["alert_id"]?.stringValue)
            let resolved = try await client.call(.patch, "/api/v1/alerts/\(id)/resolve", key: f.key)
            #expect(resolved.json["kb_prompt"]?.boolValue == false)
            #expect(try await client.call(.get, "/api/v1/incidents/\(incident)", key: f.key).json["resolution_count"]?.numberValue == 1)
        }
    }

    @Test func listFiltersAndStableCursor() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            for n in 0..<7 {
                let severity = n % 2 == 0 ? "critical" : "info"
                _ = try await client.call(.post, "/api/v1/webhooks/generic", key: f.key,
                                          json: #"{"title":"A\#(n)","severity":"\#(severity)","fingerprint":"list-\#(n)","service":"svc-\#(n % 3)","timestamp":"2026-03-01T10:00:0\#(n)Z"}"#)
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.call(.get, "/api/v1/alerts?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), key: f.key)
                seen += page.json["items"]?.arrayValue?.compactMap { $0["title"]?.stringValue } ?? []
                cursor = page.json["next_cursor"]?.stringValue
                if seen.count == 3 {
                    _ = try await client.call(.post, "/api/v1/webhooks/generic", key: f.key, json: #"{"title":"Late","fingerprint":"late","timestamp":"2026-03-02T00:00:00Z"}"#)
                }
            } while cursor != nil
            #expect(seen == ["A6", "A5", "A4", "A3", "A2", "A1", "A0"])
            func titles(_ query: String) async throws -> [String] {
                (try await client.call(.get, "/api/v1/alerts?\(query)", key: f.key).json["items"]?.arrayValue ?? []).compactMap { $0["title"]?.stringValue }
            }
            #expect(try await titles("severity=critical&until=2026-03-02T00:00:00Z") == ["A6", "A4", "A2", "A0"])
            #expect(try await titles("service=svc-1") == ["A4", "A1"])
            #expect(try await titles("since=2026-03-01T10:00:05Z&until=2026-03-02T00:00:00Z") == ["A6", "A5"])
            #expect(try await titles("status=resolved").isEmpty)
            #expect(try await client.call(.get, "/api/v1/alerts?status=sleeping", key: f.key).status == .unprocessableContent)
            #expect(try await client.call(.get, "/api/v1/alerts?source=fax", key: f.key).status == .unprocessableContent)
        }
    }
}
