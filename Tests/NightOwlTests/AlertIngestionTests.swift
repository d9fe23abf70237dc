import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import NIOCore
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

/// Payloads as each tool's documentation shows them.
enum Payloads {
    static func alertmanager(status: String = "firing", fingerprint: String = "abc123def456", alertname: String = "PodCrashLoopBackOff") -> String {
        """
        {"version":"4","groupKey":"{}:{alertname=\\"\(alertname)\\"}","truncatedAlerts":0,"status":"\(status)","receiver":"nightowl",
         "groupLabels":{"alertname":"\(alertname)"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager:9093",
         "alerts":[{"status":"\(status)","labels":{"alertname":"\(alertname)","cluster":"production-de-01","namespace":"customer-api",
           "pod":"payment-gateway-7f8b9c-xyz","severity":"critical","job":"payment-gateway"},
           "annotations":{"summary":"Pod is in CrashLoopBackOff","description":"Pod payment-gateway-7f8b9c-xyz has been restarting for 15 minutes",
           "runbook_url":"https://runbooks.example.com/pod-crashloop"},
           "startsAt":"2026-02-20T10:00:00.123Z","endsAt":"0001-01-01T00:00:00Z",
           "generatorURL":"http://prometheus:9090/graph?g0.expr=up","fingerprint":"\(fingerprint)"}]}
        """
    }

    static let keep = """
        {"id":"keep-alert-uuid","name":"HighMemoryUsage","status":"firing","severity":"high","source":["prometheus","signoz"],
         "fingerprint":"keep-fp-1","labels":{"cluster":"prod","namespace":"search"},"description":"Memory above 90%",
         "lastReceived":"2026-02-20T10:00:00Z","service":"search-indexer"}
        """

    static func pagerDuty(key: String, action: String = "trigger", dedup: String? = nil) -> String {
        let dedupField = dedup.map { #","dedup_key":"\#($0)""# } ?? ""
        return """
            {"routing_key":"\(key)","event_action":"\(action)"\(dedupField),
             "payload":{"summary":"DISK at 99% on machine prod-datapipe03.example.com","timestamp":"2026-02-20T10:00:00.000+00:00",
             "severity":"critical","source":"prod-datapipe03.example.com","component":"mysql","group":"prod-datapipe","class":"disk",
             "custom_details":{"free space":"1%","ping time":"1500ms"}},
             "client":"Sample Monitoring Service","client_url":"https://monitoring.example.com"}
            """
    }
}

@Suite struct AlertIngestionTests {
    func alerts(_ f: NightOwlFixture, _ client: any TestClientProtocol, _ query: String = "") async throws -> [JSONValue] {
        try await client.call(.get, "/api/v1/alerts?limit=200\(query)", key: f.key).json["items"]?.arrayValue ?? []
    }

    @Test func alertmanagerDedupResolveAndRefire() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let first = try await client.call(.post, "/api/v1/webhooks/alertmanager", key: f.key, json: Payloads.alertmanager())
            #expect(first.status == .ok, "\(first.text)")
            #expect(first.json["alerts"]?.arrayValue?.first?["result"]?.stringValue == "created")
            let again = try await client.call(.post, "/api/v1/webhooks/alertmanager", json: Payloads.alertmanager(), headers: [.authorization: "Bearer \(f.key)"])
            #expect(again.json["alerts"]?.arrayValue?.first?["result"]?.stringValue == "deduplicated")
            var list = try await alerts(f, client)
            #expect(list.count == 1)
            let alert = try #require(list.first)
            #expect(alert["occurrence_count"]?.numberValue == 2)
            #expect(alert["severity"]?.stringValue == "critical")
            #expect(alert["title"]?.stringValue == "Pod is in CrashLoopBackOff")
            #expect(alert["service"]?.stringValue == "payment-gateway")
            #expect(alert["cluster"]?.stringValue == "production-de-01")
            #expect(alert["namespace"]?.stringValue == "customer-api")
            #expect(alert["runbook_url"]?.stringValue == "https://runbooks.example.com/pod-crashloop")
            #expect(alert["first_fired_at"]?.stringValue == "2026-02-20T10:00:00.123Z")

            let resolved = try await client.call(.post, "/api/v1/webhooks/alertmanager", key: f.key, json: Payloads.alertmanager(status: "resolved"))
            #expect(resolved.json["alerts"]?.arrayValue?.first?["result"]?.stringValue == "resolved")
            let refired = try await client.call(.post, "/api/v1/webhooks/alertmanager", key: f.key, json: Payloads.alertmanager())
            #expect(refired.json["alerts"]?.arrayValue?.first?["result"]?.stringValue == "created", "a fingerprint that fires after resolution opens a new alert")
            list = try await alerts(f, client)
            #expect(list.compactMap { $0["status"]?.stringValue }.sorted() == ["firing", "resolved"])
            let unknown = try await client.call(.post, "/api/v1/webhooks/alertmanager", key: f.key, json: Payloads.alertmanager(status: "resolved", fingerprint: "never-seen"))
            #expect(unknown.json["alerts"]?.arrayValue?.first?["result"]?.stringValue == "ignored")
        }
    }

    @Test func keepEvents() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let response = try await client.call(.post, "/api/v1/webhooks/keep", key: f.key, json: Payloads.keep)
            #expect(response.json["stored"]?.numberValue == 1, "\(response.text)")
            let alert = try #require(try await alerts(f, client).first)
            #expect(alert["severity"]?.stringValue == "major")
            #expect(alert["service"]?.stringValue == "search-indexer")
            #expect(alert["source"]?.stringValue == "keep")
            #expect(alert["labels"]?["keep_source"]?.stringValue == "prometheus,signoz")
            let resolved = Payloads.keep.replacingOccurrences(of: #""status":"firing""#, with: #""status":"resolved""#)
            _ = try await client.call(.post, "/api/v1/webhooks/keep", key: f.key, json: resolved)
            #expect(try await alerts(f, client).first?["status"]?.stringValue == "resolved")
        }
    }

    @Test func pagerDutyEventsV2() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let triggered = try await client.call(.post, "/v2/enqueue", json: Payloads.pagerDuty(key: f.key))
            #expect(triggered.status == .accepted, "\(triggered.text)")
            #expect(triggered.json["status"]?.stringValue == "success")
            #expect(triggered.json["message"]?.stringValue == "Event processed")
            let generated = try #require(triggered.json["dedup_key"]?.stringValue)
            #expect(!generated.isEmpty, "a trigger without dedup_key gets one")

            let keyed = try await client.call(.post, "/api/v1/webhooks/pagerduty", json: Payloads.pagerDuty(key: f.key, dedup: "srv01/HTTP"))
            #expect(keyed.json["dedup_key"]?.stringValue == "srv01/HTTP")
            _ = try await client.call(.post, "/api/v1/webhooks/pagerduty", json: Payloads.pagerDuty(key: f.key, dedup: "srv01/HTTP"))
            let ack = try await client.call(.post, "/v2/enqueue", json: #"{"routing_key":"\#(f.key)","event_action":"acknowledge","dedup_key":"srv01/HTTP"}"#)
            #expect(ack.status == .accepted)
            var alert = try #require(try await alerts(f, client, "&fingerprint=pd:srv01/HTTP").first)
            #expect(alert["status"]?.stringValue == "acknowledged")
            #expect(alert["occurrence_count"]?.numberValue == 2)
            #expect(alert["severity"]?.stringValue == "critical")
            #expect(alert["service"]?.stringValue == "mysql")
            _ = try await client.call(.post, "/v2/enqueue", json: #"{"routing_key":"\#(f.key)","event_action":"resolve","dedup_key":"srv01/HTTP"}"#)
            alert = try #require(try await alerts(f, client, "&fingerprint=pd:srv01/HTTP").first)
            #expect(alert["status"]?.stringValue == "resolved")

            // Acknowledge or resolve of an unknown key is accepted and dropped.
            let dropped = try await client.call(.post, "/v2/enqueue", json: #"{"routing_key":"\#(f.key)","event_action":"resolve","dedup_key":"nothing-open"}"#)
            #expect(dropped.status == .accepted)

            let invalid = try await client.call(.post, "/v2/enqueue", json: #"{"routing_key":"\#(f.key)","event_action":"trigger","payload":{"summary":"x","severity":"sev9"}}"#)
            #expect(invalid.status == .badRequest)
            #expect(invalid.json["status"]?.stringValue == "invalid event")
            #expect((invalid.json["errors"]?.arrayValue?.count ?? 0) >= 2)
            #expect(invalid.json["error"]?["code"]?.stringValue == "invalid_event")
            #expect(try await client.call(.post, "/v2/enqueue", json: Payloads.pagerDuty(key: "ow_" + String(repeating: "f", count: 48))).status == .unauthorized)
            #expect(try await client.call(.post, "/v2/enqueue", json: #"{"event_action":"trigger"}"#).status == .unauthorized)
        }
    }

    @Test func partialBatchesStoreTheValidAlerts() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let body = """
                {"version":"4","status":"firing","alerts":[
                  {"status":"firing","labels":{"alertname":"A","severity":"warning"},"startsAt":"2026-02-20T10:00:00Z"},
                  {"status":"firing","labels":"not-an-object"},
                  {"status":"exploded","labels":{"alertname":"C"}},
                  {"status":"firing","labels":{"alertname":"D"},"startsAt":"yesterday"},
                  {"status":"firing","labels":{"alertname":"E","severity":"p1"}}]}
                """
            let response = try await client.call(.post, "/api/v1/webhooks/alertmanager", key: f.key, json: body)
            #expect(response.status == .ok)
            #expect(response.json["stored"]?.numberValue == 2)
            #expect(response.json["rejected"]?.numberValue == 3)
            let results = response.json["alerts"]?.arrayValue?.compactMap { $0["result"]?.stringValue }
            #expect(results == ["created", "rejected", "rejected", "rejected", "created"])
            #expect(response.json["alerts"]?.arrayValue?[1]["error"]?.stringValue?.contains("labels") == true)
            #expect(try await alerts(f, client).count == 2)
        }
    }

    @Test(arguments: [
        ("/api/v1/webhooks/alertmanager", #"{"alerts":"nope"}"#, 422),
        ("/api/v1/webhooks/alertmanager", #"{"version":"3","alerts":[]}"#, 422),
        ("/api/v1/webhooks/alertmanager", #"{"alerts":[{"labels":7}]}"#, 422),
        ("/api/v1/webhooks/alertmanager", #"{"alerts":[{"#, 400),
        ("/api/v1/webhooks/keep", #"{"status":"firing"}"#, 422),
        ("/api/v1/webhooks/keep", #""just a string""#, 422),
        ("/api/v1/webhooks/generic", #"{"severity":"critical"}"#, 422),
        ("/api/v1/webhooks/generic", #"{"title":["a"]}"#, 422),
        ("/api/v1/webhooks/generic", #"{"title":"x","agent_metadata":{"agent_id":"a","confidence":7}}"#, 422),
        ("/api/v1/webhooks/generic", #"not json"#, 400),
        ("/v2/enqueue", #"{"event_action":"explode"}"#, 400),
    ])
    func malformedPayloadsStoreNothing(path: String, body: String, status: Int) async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let response = try await client.call(.post, path, key: f.key, json: body)
            #expect(Int(response.status.code) == status, "\(path) \(body): \(response.text)")
            #expect(response.json["error"]?["code"]?.stringValue != nil)
            #expect(try await alerts(f, client).isEmpty)
        }
    }

    @Test func webhookScopedKeysIngestButReadNothing() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let key = try #require(try await client.call(.post, "/api/v1/api-keys", key: f.key, json: #"{"role":"engineer","scopes":["webhook"]}"#).json["key"]?.stringValue)
            #expect(try await client.call(.post, "/api/v1/webhooks/alertmanager", key: key, json: Payloads.alertmanager()).status == .ok)
            #expect(try await client.call(.post, "/v2/enqueue", json: Payloads.pagerDuty(key: key)).status == .accepted)
            #expect(try await client.call(.get, "/api/v1/alerts", key: key).status == .forbidden)
            let readonly = try #require(try await client.call(.post, "/api/v1/api-keys", key: f.key, json: #"{"role":"readonly"}"#).json["key"]?.stringValue)
            #expect(try await client.call(.post, "/api/v1/webhooks/alertmanager", key: readonly, json: Payloads.alertmanager()).status == .forbidden)
        }
    }
}

