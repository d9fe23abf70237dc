import Foundation
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

@Suite struct ScheduledJobTests {
    @Test func handoffTellsOutgoingIncomingAndChannelOnce() async throws {
        let f = try await NightOwlFixture.make()
        let (anna, ben) = try await f.app.test { client -> (String, String) in
            let anna = try await client.createUser(f.key, "Anna")
            _ = try await client.call(.put, "/api/v1/users/\(anna)", key: f.key, json: #"{"slack_user_id":"U0ANNA"}"#)
            let ben = try await client.createUser(f.key, "Ben", phone: "+4915100000002")
            _ = try await client.createRoster(f.key, #"""
                {"name":"Ops","timezone":"UTC","rotation_type":"daily","handoff_time":"09:00","start_date":"2026-01-01",
                 "slack_channel":"ops-oncall","members":["\#(anna)","\#(ben)"]}
                """#)
            _ = try await client.call(.post, "/api/v1/webhooks/generic", key: f.key,
                                      json: #"{"title":"etcd leader election failure","severity":"critical","cluster":"prod-de-01","fingerprint":"h-\#(UUID())"}"#)
            return (anna, ben)
        }
        _ = (anna, ben)
        let clock = DrivenClock(utc("2026-01-05T08:00:00Z"))
        let notifier = HandoffNotifier(database: f.app.database, tenantConfig: f.app.platform.tenantConfig, logger: TestDatabase.logger, now: { clock.now })
        #expect(try await notifier.run(f.tenant) == 0, "the first run only starts the cursor")
        clock.advance(to: utc("2026-01-05T09:30:00Z"))
        #expect(try await notifier.run(f.tenant) == 1)
        #expect(try await notifier.run(f.tenant) == 0, "announced once")
        let rows = try await f.app.database.withTenant(f.tenant.slug) { connection -> [String: String] in
            var rows: [String: String] = [:]
            for try await (method, recipient, payload) in try await connection.query("""
                SELECT method, recipient, payload::text FROM notification_outbox WHERE idempotency_key LIKE 'handoff:%'
                """, logger: TestDatabase.logger).decode((String, String, String).self) { rows["\(method) \(recipient)"] = payload }
            return rows
        }
        #expect(Set(rows.keys) == ["sms +4915100000002", "slack_dm U0ANNA", "slack_channel ops-oncall"])
        #expect(rows["sms +4915100000002"]?.contains("Your on-call shift for Ops is ending. Open incidents: 1 (1 critical).") == true)
        #expect(rows["slack_dm U0ANNA"]?.contains("You are now on-call for Ops. Open incidents: 1.") == true)
        #expect(rows["slack_dm U0ANNA"]?.contains("CRITICAL: etcd leader election failure (cluster prod-de-01)") == true)
        #expect(rows["slack_channel ops-oncall"]?.contains("On-call has changed for Ops: <@U0ANNA> (Anna) takes over from Ben.") == true)
    }

    @Test func retentionDeletesOldResolvedAlertsAndArchivesOldAudit() async throws {
        let f = try await NightOwlFixture.make()
        let now = Date()
        try await f.app.database.withTenant(f.tenant.slug) { connection in
            for (fingerprint, days) in [("old", 100), ("recent", 10)] {
                try await connection.query("""
                    INSERT INTO alerts (fingerprint, status, severity, source, title, first_fired_at, last_fired_at, resolved_at)
                    VALUES (\(fingerprint), 'resolved', 'warning', 'test', 't', now(), now(), now() - make_interval(days => \(days)::int))
                    """, logger: TestDatabase.logger)
            }
            try await connection.query("""
                INSERT INTO alerts (fingerprint, status, severity, source, title, first_fired_at, last_fired_at, created_at)
                VALUES ('open-old', 'firing', 'warning', 'test', 't', now(), now(), now() - interval '200 days')
                """, logger: TestDatabase.logger)
            try await connection.query("""
                INSERT INTO audit_log (actor, actor_type, action, resource, created_at) VALUES
                  ('a', 'api_key', 'x.old', 'x', now() - interval '400 days'), ('a', 'api_key', 'x.new', 'x', now() - interval '5 days')
                """, logger: TestDatabase.logger)
            try await connection.query("""
                INSERT INTO incidents (title, severity, created_by, created_at) VALUES ('kept forever', 'info', 'test', now() - interval '900 days')
                """, logger: TestDatabase.logger)
        }
        let job = RetentionJob(database: f.app.database, tenantConfig: f.app.platform.tenantConfig, logger: TestDatabase.logger, now: { now })
        #expect(try await job.run(f.tenant, force: false) == RetentionJob.Result(alertsDeleted: 1, auditArchived: 1))
        #expect(try await job.run(f.tenant, force: false) == nil, "once a day")
        let (alerts, archive, incidents) = try await f.app.database.withTenant(f.tenant.slug) { connection -> ([String], [String], Int) in
            var alerts: [String] = []
            for try await fp in try await connection.query("SELECT fingerprint FROM alerts ORDER BY fingerprint", logger: TestDatabase.logger).decode(String.self) {
                alerts.append(fp)
            }
            var archive: [String] = []
            for try await action in try await connection.query("SELECT action FROM audit_log_archive", logger: TestDatabase.logger).decode(String.self) {
                archive.append(action)
            }
            var incidents = 0
            for try await n in try await connection.query("SELECT count(*) FROM incidents", logger: TestDatabase.logger).decode(Int.self) { incidents = n }
            return (alerts, archive, incidents)
        }
        #expect(alerts == ["open-old", "recent"])
        #expect(archive == ["x.old"])
        #expect(incidents == 1)
    }
}
