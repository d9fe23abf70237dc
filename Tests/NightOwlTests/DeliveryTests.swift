import Foundation
import NIOConcurrencyHelpers
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

/// A sender whose answers the test scripts, recording what it was given.
final class ScriptedSender: NotificationSender, Sendable {
    let answers = NIOLockedValueBox<[DeliveryOutcome]>([])
    let sent = NIOLockedValueBox<[OutboundBundle]>([])
    func send(_ bundle: OutboundBundle, tenant: Tenant) async -> DeliveryOutcome {
        sent.withLockedValue { $0.append(bundle) }
        return answers.withLockedValue { $0.isEmpty ? .delivered(reference: "ok") : $0.removeFirst() }
    }
}

@Suite struct DeliveryTests {
    static func live(_ s: EscalationScenario) async throws {
        _ = try await s.f.app.test { client in
            try await client.call(.put, "/api/v1/admin/config", key: s.f.key, json: #"{"settings":{"twilio_mode":"live","slack_mode":"live"}}"#)
        }
    }

    func statuses(_ s: EscalationScenario) async throws -> [String] {
        try await s.f.app.database.withTenant(s.f.tenant.slug) { connection in
            var rows: [String] = []
            for try await (method, status, attempts) in try await connection.query("""
                SELECT method, status, attempts FROM notification_outbox WHERE alert_id = \(s.alertID) ORDER BY step, method
                """, logger: TestDatabase.logger).decode((String, String, Int).self) { rows.append("\(method) \(status) \(attempts)") }
            return rows
        }
    }

    /// 5xx and 429 are retried after a backoff (or Retry-After), a 4xx is final, and when every message of a tier has
    /// failed for good the next tier is due at once instead of after the timeout.
    @Test func retriesThenGivesUpAndEscalatesEarly() async throws {
        let s = try await EscalationScenario.make()
        try await Self.live(s)
        let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
        let sender = ScriptedSender()
        let registry = HTTPMetrics(prefix: "nightowl")
        var dispatcher = NotificationDispatcher(database: s.f.app.database, logger: TestDatabase.logger, sender: sender, now: { clock.now })
        dispatcher.metrics = WorkerMetrics(registry)
        _ = try await s.engine(clock).tick(s.f.tenant)
        // Queued but not yet due for a minute: not overdue; two minutes on, both are.
        #expect(try await dispatcher.overdue(s.f.tenant, at: clock.now).count == 0)
        let late = try await dispatcher.overdue(s.f.tenant, at: clock.now.addingTimeInterval(120))
        #expect(late.count == 2 && late.firstDue.map { abs($0.timeIntervalSince(clock.now)) < 1 } == true)
        sender.answers.withLockedValue { $0 = [.retryable("HTTP 500", retryAfter: nil), .retryable("HTTP 429", retryAfter: 30)] }
        _ = try await dispatcher.drain(s.f.tenant)
        #expect(try await statuses(s) == ["slack_dm pending 1", "sms pending 1"])
        clock.advance(to: clock.now.addingTimeInterval(11)) // the 500 waits 10 s, the 429 waits 30 s
        sender.answers.withLockedValue { $0 = [.permanent("slack: user_not_found")] }
        _ = try await dispatcher.drain(s.f.tenant)
        #expect(try await statuses(s) == ["slack_dm failed 2", "sms pending 1"])
        clock.advance(to: clock.now.addingTimeInterval(20))
        sender.answers.withLockedValue { $0 = [.permanent("HTTP 400: not a mobile number")] }
        _ = try await dispatcher.drain(s.f.tenant)
        #expect(try await statuses(s) == ["slack_dm failed 2", "sms failed 2"])
        let attempts = try await s.f.app.database.withTenant(s.f.tenant.slug) { connection -> [String] in
            var rows: [String] = []
            for try await (method, outcome) in try await connection.query("""
                SELECT o.method, a.outcome FROM outbox_attempts a JOIN notification_outbox o ON o.id = a.message_id
                ORDER BY a.id
                """, logger: TestDatabase.logger).decode((String, String).self) { rows.append("\(method) \(outcome)") }
            return rows
        }
        #expect(attempts == ["slack_dm retryable", "sms retryable", "slack_dm failed", "sms failed"], "every attempt is recorded")
        // Each outcome is counted for Prometheus (deploy/prometheus/nightowl-rules.yml alerts on failures).
        let exported = registry.render()
        for line in [#"nightowl_notifications_total{provider="slack",outcome="retrying"} 1"#,
                     #"nightowl_notifications_total{provider="slack",outcome="failed"} 1"#,
                     #"nightowl_notifications_total{provider="twilio",outcome="retrying"} 1"#,
                     #"nightowl_notifications_total{provider="twilio",outcome="failed"} 1"#,
                     #"nightowl_notifications_total{provider="twilio",outcome="sent"} 0"#] {
            #expect(exported.contains(line + "\n"), "\(line) in \(exported)")
        }
        // Failed or waiting for a retry that is not due: nothing is overdue.
        #expect(try await dispatcher.overdue(s.f.tenant, at: clock.now).count == 0)
        // Tier 1 cannot reach anyone: tier 2 is due now, not at minute 5.
        _ = try await s.engine(clock).tick(s.f.tenant)
        #expect(try await statuses(s).count == 4)
        #expect(clock.now.timeIntervalSince(s.firedAt) < 60)
    }

    /// At most one SMS a minute per number: what arrives in that minute goes out as one message that counts the alerts.
    @Test func smsToOneNumberIsRateLimitedAndBundled() async throws {
        let s = try await EscalationScenario.make()
        try await Self.live(s)
        let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
        let sender = ScriptedSender()
        let dispatcher = NotificationDispatcher(database: s.f.app.database, logger: TestDatabase.logger, sender: sender, now: { clock.now })
        _ = try await s.engine(clock).tick(s.f.tenant)
        _ = try await dispatcher.drain(s.f.tenant)
        #expect(sender.sent.withLockedValue { $0.filter { $0.method == .sms }.count } == 1)
        // Three more critical alerts within the minute.
        try await s.f.app.test { client in
            for n in 0..<3 {
                _ = try await client.call(.post, "/api/v1/webhooks/generic", key: s.f.key,
                                          json: #"{"title":"Storm \#(n)","severity":"critical","fingerprint":"storm-\#(n)-\#(UUID())"}"#)
            }
        }
        clock.advance(to: clock.now.addingTimeInterval(20))
        _ = try await s.engine(clock).tick(s.f.tenant)
        _ = try await dispatcher.drain(s.f.tenant)
        #expect(sender.sent.withLockedValue { $0.filter { $0.method == .sms }.count } == 1, "held back by the limit")
        clock.advance(to: clock.now.addingTimeInterval(41))
        _ = try await dispatcher.drain(s.f.tenant)
        let sms = sender.sent.withLockedValue { $0.filter { $0.method == .sms } }
        #expect(sms.count == 2)
        #expect(sms.last?.ids.count == 3)
        let text = AlertMessages.smsBundle(sms.last?.payloads.compactMap(OutboundPayload.notice(from:)) ?? [])
        #expect(text.hasPrefix("[NightOwl] 3 alerts: "))
    }
}
