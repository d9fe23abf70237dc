import Foundation
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import Testing
@testable import NightOwl

/// Every format goes through the whole pipeline: ingested, deduplicated, enriched from the knowledge base, resolved.
@Suite struct AlertFormatsTests {
    enum Format: String, CaseIterable, Sendable { case alertmanager, keep, generic, pagerduty }

    static func fire(_ format: Format, key: String) -> (path: String, body: String, fingerprint: String, usesHeader: Bool) {
        switch format {
        case .alertmanager: ("/api/v1/webhooks/alertmanager", Payloads.alertmanager(fingerprint: "fmt-am"), "fmt-am", true)
        case .keep: ("/api/v1/webhooks/keep", Payloads.keep.replacingOccurrences(of: "keep-fp-1", with: "fmt-keep"), "fmt-keep", true)
        case .generic: ("/api/v1/webhooks/generic", #"{"title":"Disk full on db-1","severity":"p2","fingerprint":"fmt-generic"}"#, "fmt-generic", true)
        case .pagerduty: ("/v2/enqueue", Payloads.pagerDuty(key: key, dedup: "fmt-pd"), "pd:fmt-pd", false)
        }
    }

    static func resolve(_ format: Format, key: String) -> (path: String, body: String) {
        switch format {
        case .alertmanager: ("/api/v1/webhooks/alertmanager", Payloads.alertmanager(status: "resolved", fingerprint: "fmt-am"))
        case .keep: ("/api/v1/webhooks/keep", Payloads.keep.replacingOccurrences(of: "keep-fp-1", with: "fmt-keep")
            .replacingOccurrences(of: #""status":"firing""#, with: #""status":"resolved""#))
        case .generic: ("/api/v1/webhooks/generic", #"{"title":"Disk full on db-1","status":"resolved","fingerprint":"fmt-generic"}"#)
        case .pagerduty: ("/v2/enqueue", #"{"routing_key":"\#(key)","event_action":"resolve","dedup_key":"fmt-pd"}"#)
        }
    }

    @Test(arguments: Format.allCases)
    func wholePipeline(format: Format) async throws {
        let f = try await NightOwlFixture.make()
        let fire = Self.fire(format, key: f.key)
        try await f.app.test { client in
            let incident = try await client.createIncident(f.key, #"{"title":"Known \#(format.rawValue) problem","severity":"major","fingerprints":["\#(fire.fingerprint)"],"solution":"Do the known thing"}"#)
            for _ in 0..<2 {
                let response = try await client.call(.post, fire.path, key: fire.usesHeader ? f.key : nil, json: fire.body)
                #expect((200..<300).contains(Int(response.status.code)), "\(format): \(response.text)")
            }
            let encoded = fire.fingerprint.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? fire.fingerprint
            var alert = try #require(try await client.call(.get, "/api/v1/alerts?fingerprint=\(encoded)", key: f.key).json["items"]?.arrayValue?.first)
            #expect(alert["occurrence_count"]?.numberValue == 2, "\(format) deduplicates")
            #expect(alert["matched_incident_id"]?.stringValue?.lowercased() == incident.lowercased(), "\(format) is enriched")
            #expect(alert["suggested_solution"]?.stringValue == "Do the known thing")
            #expect(alert["source"]?.stringValue == format.rawValue)

            let resolve = Self.resolve(format, key: f.key)
            let resolved = try await client.call(.post, resolve.path, key: fire.usesHeader ? f.key : nil, json: resolve.body)
            #expect((200..<300).contains(Int(resolved.status.code)))
            alert = try #require(try await client.call(.get, "/api/v1/alerts?fingerprint=\(encoded)", key: f.key).json["items"]?.arrayValue?.first)
            #expect(alert["status"]?.stringValue == "resolved", "\(format) resolves")
        }
    }
}

/// PostgreSQL cannot store NUL; a webhook alert that carries one is kept with U+FFFD in its place, in every field
/// and in label keys, instead of being refused or failing the batch it shares a commit with.
@Suite struct AlertNULTests {
    @Test(arguments: AlertFormatsTests.Format.allCases)
    func aNULInAnAlertIsReplacedNotLost(format: AlertFormatsTests.Format) async throws {
        let f = try await NightOwlFixture.make()
        let (path, body, usesHeader): (String, String, Bool) = switch format {
        case .alertmanager: ("/api/v1/webhooks/alertmanager",
                             #"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Nul\u0000Alert","k\u0000ey":"v"},"annotations":{"summary":"Disk\u0000full"},"fingerprint":"nul-am"}]}"#, true)
        case .keep: ("/api/v1/webhooks/keep", #"{"name":"Disk\u0000full","status":"firing","fingerprint":"nul-keep","labels":{"k\u0000ey":"v"}}"#, true)
        case .generic: ("/api/v1/webhooks/generic", #"{"title":"Disk\u0000full","fingerprint":"nul-generic","labels":{"k\u0000ey":"v"}}"#, true)
        case .pagerduty: ("/v2/enqueue", #"{"routing_key":"\#(f.key)","event_action":"trigger","dedup_key":"nul-pd","payload":{"summary":"Disk\u0000full","source":"db-1","severity":"critical","custom_details":{"k\u0000ey":"v\u0000"}}}"#, false)
        }
        try await f.app.test { client in
            let response = try await client.call(.post, path, key: usesHeader ? f.key : nil, json: body)
            #expect((200..<300).contains(Int(response.status.code)), "\(format): \(response.text)")
            let alerts = try await client.call(.get, "/api/v1/alerts", key: f.key).json["items"]?.arrayValue ?? []
            let alert = try #require(alerts.first)
            #expect(alerts.count == 1)
            let title = alert["title"]?.stringValue ?? ""
            #expect(title.contains("\u{FFFD}") && !title.contains("\u{0}"), "\(format): \(title)")
            if format != .pagerduty {
                #expect(alert["labels"]?.objectValue?["k\u{FFFD}ey"] != nil, "\(format): label keys too")
            }
        }
    }
}
