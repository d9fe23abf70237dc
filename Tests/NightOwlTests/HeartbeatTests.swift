import Foundation
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

/// Heartbeat monitors: when the pings stop, an alert fires through the normal pipeline; the next ping resolves it.
@Suite struct HeartbeatTests {
    @Test(arguments: [
        (true, nil as Double?, false, 300, Heartbeat.Status.inactive),  // never pinged: not expected to beat yet
        (true, -100, false, 300, .ok),
        (true, -300, false, 300, .ok),                                  // exactly on time
        (true, -301, false, 300, .expired),
        (true, -10, true, 300, .expired),                               // its alert is still open until the next ping
        (false, -10_000, true, 300, .paused),
    ])
    func statusFollowsThePings(enabled: Bool, lastPing: Double?, expired: Bool, interval: Int, status: Heartbeat.Status) {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(Heartbeat.status(enabled: enabled, lastPing: lastPing.map { now.addingTimeInterval($0) }, expired: expired,
                                 interval: interval, at: now) == status)
    }

    @Test(arguments: [
        (#"{"name":"watchdog","interval_seconds":30}"#, 422, "interval_seconds"),
        (#"{"name":"watchdog","interval_seconds":604801}"#, 422, "interval_seconds"),
        (#"{"name":"watchdog"}"#, 422, "interval_seconds"),
        (#"{"interval_seconds":300}"#, 422, "name"),
        (#"{"name":"  ","interval_seconds":300}"#, 422, "name"),
        (#"{"name":"watchdog","interval_seconds":"300"}"#, 422, ""),
        (#"{"name":"watchdog","interval_seconds":300,"severity":"sev1"}"#, 422, ""),
        (#"{"name":"watchdog","interval_seconds":300,"enabled":"yes"}"#, 422, ""),
        (#"{"name":"watchdog","interval_seconds":300"#, 400, ""),
    ])
    func badInputIsRefusedAndNothingStored(body: String, status: Int, field: String) async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let refused = try await client.call(.post, "/api/v1/heartbeats", key: f.key, json: body)
            #expect(Int(refused.status.code) == status, "\(refused.text)")
            #expect(refused.json["error"]?["code"]?.stringValue != nil)
            if !field.isEmpty { #expect(refused.json["error"]?["details"]?["field"]?.stringValue == field, "\(refused.text)") }
            #expect(try await client.call(.get, "/api/v1/heartbeats", key: f.key).json["items"]?.arrayValue?.isEmpty == true)
        }
    }

    /// (status, occurrence_count, resolved_by) of the heartbeat's alerts.
    static func alerts(_ f: NightOwlFixture, _ heartbeat: String) async throws -> [String] {
        try await f.app.database.withTenant(f.tenant.slug) { connection in
            var rows: [String] = []
            for try await (status, count, by, title) in try await connection.query("""
                SELECT status, occurrence_count, resolved_by, title FROM alerts WHERE fingerprint = \("heartbeat:" + heartbeat) ORDER BY created_at
                """, logger: TestDatabase.logger).decode((String, Int, String?, String).self) {
                rows.append("\(status) \(count) \(by ?? "-") \(title)")
            }
            return rows
        }
    }

    @Test func missedPingsRaiseAnAlertAndTheNextPingResolvesIt() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let created = try await client.call(.post, "/api/v1/heartbeats", key: f.key,
                                                json: #"{"name":"Prometheus watchdog","interval_seconds":300,"severity":"major","service":"monitoring"}"#)
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.json["id"]?.stringValue).lowercased()
            #expect(created.json["status"]?.stringValue == "inactive")
            #expect(created.json["ping_path"]?.stringValue == "/api/v1/heartbeats/\(id)/ping")
            #expect(try await client.call(.post, "/api/v1/heartbeats", key: f.key, json: #"{"name":"prometheus WATCHDOG","interval_seconds":60}"#).status == .conflict)

            // Never pinged: nothing fires, however long it waits.
            let later = HeartbeatMonitor(database: f.app.database, logger: TestDatabase.logger, now: { Date().addingTimeInterval(86_400) })
            #expect(try await later.run(f.tenant).isEmpty)

            // Alertmanager's Watchdog posts its webhook with a webhook-only key.
            let webhookKey = try #require(try await client.call(.post, "/api/v1/api-keys", key: f.key,
                                                                json: #"{"role":"engineer","scopes":["webhook"]}"#).json["key"]?.stringValue)
            let ping = try await client.call(.post, "/api/v1/heartbeats/\(id)/ping", key: webhookKey,
                                             json: #"{"version":"4","status":"firing","alerts":[{"labels":{"alertname":"Watchdog"}}]}"#)
            #expect(ping.status == .ok && ping.json["status"]?.stringValue == "ok" && ping.json["recovered"]?.boolValue == false, "\(ping.text)")
            #expect(try await client.call(.get, "/api/v1/heartbeats", key: webhookKey).status == .forbidden, "the key may only ping")

            // On time: nothing. Overdue: one alert, however many checks see it.
            let onTime = HeartbeatMonitor(database: f.app.database, logger: TestDatabase.logger, now: { Date().addingTimeInterval(290) })
            #expect(try await onTime.run(f.tenant).isEmpty)
            let overdue = HeartbeatMonitor(database: f.app.database, logger: TestDatabase.logger, now: { Date().addingTimeInterval(400) })
            #expect(try await overdue.run(f.tenant).map(\.name) == ["Prometheus watchdog"])
            #expect(try await overdue.run(f.tenant).isEmpty)
            #expect(try await Self.alerts(f, id) == ["firing 1 - Heartbeat missed: Prometheus watchdog"])
            let alert = try await client.call(.get, "/api/v1/alerts?fingerprint=heartbeat:\(id)", key: f.key).json["items"]?.arrayValue?.first
            #expect(alert?["severity"]?.stringValue == "major" && alert?["service"]?.stringValue == "monitoring", "\(String(describing: alert))")
            #expect(try await client.call(.get, "/api/v1/heartbeats/\(id)", key: f.key).json["status"]?.stringValue == "expired")

            // The sender is back: the alert resolves.
            let back = try await client.call(.post, "/api/v1/heartbeats/\(id)/ping", key: webhookKey)
            #expect(back.json["recovered"]?.boolValue == true && back.json["status"]?.stringValue == "ok", "\(back.text)")
            #expect(try await Self.alerts(f, id) == ["resolved 1 heartbeat Heartbeat missed: Prometheus watchdog"])

            // Paused: no alert, whatever the pings.
            #expect(try await client.call(.put, "/api/v1/heartbeats/\(id)", key: f.key, json: #"{"enabled":false}"#).json["status"]?.stringValue == "paused")
            #expect(try await overdue.run(f.tenant).isEmpty)

            // Unknown or malformed ids.
            #expect(try await client.call(.post, "/api/v1/heartbeats/\(UUID())/ping", key: webhookKey).status == .notFound)
            #expect(try await client.call(.post, "/api/v1/heartbeats/not-an-id/ping", key: webhookKey).status == .badRequest)
            #expect(try await client.call(.delete, "/api/v1/heartbeats/\(id)", key: f.key).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/heartbeats/\(id)", key: f.key).status == .notFound)
            await f.app.platform.audit.flush()
            let audited = try await client.call(.get, "/api/v1/audit-log?resource=heartbeat", key: f.key).json["items"]?.arrayValue?.compactMap { $0["action"]?.stringValue }
            #expect(Set(audited ?? []) == ["heartbeat.create", "heartbeat.update", "heartbeat.delete"], "\(String(describing: audited))")
        }
    }
}
