import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

/// Slack messages about an alert follow it: once it is acknowledged or resolved, from anywhere, each message that paged
/// for it is updated (`chat.update`) to say who did what and when, without the Acknowledge and Escalate buttons.
@Suite struct SlackFollowUpTests {
    static let notice = AlertNotice(alertID: UUID(uuidString: "6F1C2A7E-0000-4000-8000-000000000001")!, title: "Payments API down",
                                    severity: .critical, service: "payments", cluster: "prod-1", namespace: "api", solution: nil,
                                    runbookURL: "https://owl.example.com/runbooks/7", onCallName: "Anna", onCallSlackID: "U0ANNA",
                                    tier: 0, repetition: 0, link: nil)

    @Test(arguments: [
        (AlertStatus.acknowledged, "slack:U0ANNA" as String?, 1_700_000_000.0 as Double?,
         "👀 Acknowledged by <@U0ANNA> <!date^1700000000^{date_short_pretty} at {time}|2023-11-14T22:13:20Z> · was 🔴 CRITICAL",
         "👀 ACKNOWLEDGED: Payments API down"),
        (.resolved, "anna@example.com", 1_700_000_060.9,
         "✅ Resolved by *anna@example.com* <!date^1700000060^{date_short_pretty} at {time}|2023-11-14T22:14:20Z> · was 🔴 CRITICAL",
         "✅ RESOLVED: Payments API down"),
        (.resolved, "ops <team> & co", nil, "✅ Resolved by *ops &lt;team&gt; &amp; co* · was 🔴 CRITICAL", "✅ RESOLVED: Payments API down"),
        (.resolved, nil, nil, "✅ Resolved · was 🔴 CRITICAL", "✅ RESOLVED: Payments API down"),
    ])
    func followUpMessage(status: AlertStatus, actor: String?, at: Double?, line: String, header: String) throws {
        let message = AlertMessages.slackFollowUp(Self.notice, status: status, by: actor, at: at.map(Date.init(timeIntervalSince1970:)),
                                                  channel: "C0CHAN", ts: "1700000000.000100")
        let object = try #require(message.objectValue)
        #expect(object["channel"]?.stringValue == "C0CHAN" && object["ts"]?.stringValue == "1700000000.000100")
        guard case .array(let blocks)? = object["blocks"] else { Issue.record("no blocks"); return }
        let types = blocks.compactMap { $0.objectValue?["type"]?.stringValue }
        #expect(types == ["header", "section", "actions", "context"])
        #expect(blocks[0].objectValue?["text"]?.objectValue?["text"]?.stringValue == header)
        // Only the runbook link is left to press.
        let text = message.jsonText()
        #expect(!text.contains("ack_alert") && !text.contains("escalate_alert") && text.contains("view_runbook"))
        guard case .array(let context)? = blocks[3].objectValue?["elements"] else { Issue.record("no context"); return }
        #expect(context.first?.objectValue?["text"]?.stringValue == line)
        #expect(object["text"]?.stringValue?.hasSuffix("Payments API down (payments)") == true)
    }

    @Test func withoutARunbookNoButtonsAreLeft() throws {
        var notice = Self.notice
        notice.runbookURL = nil
        let message = AlertMessages.slackFollowUp(notice, status: .acknowledged, by: nil, at: nil, channel: "C0CHAN", ts: "1.2")
        guard case .array(let blocks)? = message.objectValue?["blocks"] else { Issue.record("no blocks"); return }
        #expect(blocks.compactMap { $0.objectValue?["type"]?.stringValue } == ["header", "section", "context"])
    }

    /// (method, status, recipient, follow-up status) of the alert's Slack rows: the messages, then their follow-ups.
    static func slackRows(_ s: EscalationScenario) async throws -> [String] {
        try await s.f.app.database.withTenant(s.f.tenant.slug) { connection in
            var rows: [String] = []
            for try await (method, status, recipient, followUp) in try await connection.query("""
                SELECT method, status, recipient, payload -> 'slack_update' ->> 'status' FROM notification_outbox
                WHERE alert_id = \(s.alertID) AND provider = 'slack' ORDER BY payload ? 'slack_update', created_at, id
                """, logger: TestDatabase.logger).decode((String, String, String, String?).self) {
                rows.append([method, status, recipient, followUp ?? "-"].joined(separator: " "))
            }
            return rows
        }
    }

    @Test func acknowledgingAndResolvingUpdateTheMessageThatPaged() async throws {
        let fake = FakeProviders()
        try await fake.application().test(.live) { server in
            let s = try await EscalationScenario.make()
            let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
            let dispatcher = try await s.liveSlack(apiBase: "http://127.0.0.1:\(try #require(server.port))/api", clock)
            _ = try await s.engine(clock).tick(s.f.tenant)
            _ = try await dispatcher.drain(s.f.tenant)
            #expect(fake.seen.withLockedValue { $0.map(\.path) } == ["/api/conversations.open", "/api/chat.postMessage"])
            #expect(try await Self.slackRows(s) == ["slack_dm sent U0ANNA -"])

            try await s.f.app.test { client in
                let ack = try await client.call(.patch, "/api/v1/alerts/\(s.alertID)/acknowledge", key: s.f.key)
                #expect(ack.status == .ok, "\(ack.text)")
            }
            // Written with the acknowledgement, addressed to the message itself, and not cancelled for the alert's state.
            #expect(try await Self.slackRows(s) == ["slack_dm sent U0ANNA -", "slack_dm pending C0CHAN:1700000000.000100 acknowledged"])
            clock.advance(to: Date().addingTimeInterval(1))
            _ = try await dispatcher.drain(s.f.tenant)
            let update = try #require(fake.seen.withLockedValue { $0.last })
            #expect(update.path == "/api/chat.update" && update.headers["authorization"] == "Bearer xoxb-test")
            let body = try #require(JSONValue.parse(update.body)?.objectValue)
            #expect(body["channel"]?.stringValue == "C0CHAN" && body["ts"]?.stringValue == "1700000000.000100")
            #expect(!update.body.contains("ack_alert") && !update.body.contains("escalate_alert"))
            #expect(update.body.contains("ACKNOWLEDGED: Payments API down") && update.body.contains("👀 Acknowledged by *"))

            try await s.f.app.test { client in
                let resolved = try await client.call(.patch, "/api/v1/alerts/\(s.alertID)/resolve", key: s.f.key, json: #"{"notes":"restarted"}"#)
                #expect(resolved.status == .ok, "\(resolved.text)")
            }
            clock.advance(to: Date().addingTimeInterval(1)) // no rate limit holds an edit back
            _ = try await dispatcher.drain(s.f.tenant)
            let last = try #require(fake.seen.withLockedValue { $0.last })
            #expect(last.path == "/api/chat.update" && last.body.contains("RESOLVED: Payments API down") && last.body.contains("✅ Resolved by *"))
            #expect(fake.seen.withLockedValue { $0.count } == 4)
            #expect(try await Self.slackRows(s) == ["slack_dm sent U0ANNA -", "slack_dm sent C0CHAN:1700000000.000100 acknowledged",
                                                     "slack_dm sent C0CHAN:1700000000.000100 resolved"])
        }
    }

    /// Undo of an acknowledgement (the console's toast) edits the message back to firing, buttons and all, and
    /// acknowledging again edits it once more: the same state twice is two edits.
    @Test func anAcknowledgementTakenBackShowsTheAlertFiringAgain() async throws {
        let fake = FakeProviders()
        try await fake.application().test(.live) { server in
            let s = try await EscalationScenario.make()
            let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
            let dispatcher = try await s.liveSlack(apiBase: "http://127.0.0.1:\(try #require(server.port))/api", clock)
            _ = try await s.engine(clock).tick(s.f.tenant)
            _ = try await dispatcher.drain(s.f.tenant)
            func act(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> TestResponse) async throws {
                try await s.f.app.test { client in
                    let response = try await body(client)
                    #expect([.ok, .seeOther].contains(response.status), "\(response.text)")
                }
                clock.advance(to: Date().addingTimeInterval(1))
                _ = try await dispatcher.drain(s.f.tenant)
            }
            try await act { try await $0.call(.patch, "/api/v1/alerts/\(s.alertID)/acknowledge", key: s.f.key) }
            try await act { try await $0.submit("/alerts/undo", key: s.f.key, form: [("id", s.alertID.uuidString)]) }
            let undone = try #require(fake.seen.withLockedValue { $0.last })
            #expect(undone.path == "/api/chat.update" && undone.body.contains("ack_alert") && undone.body.contains("Firing again"))
            #expect(!undone.body.contains("ACKNOWLEDGED"))
            try await act { try await $0.call(.patch, "/api/v1/alerts/\(s.alertID)/acknowledge", key: s.f.key) }
            let again = try #require(fake.seen.withLockedValue { $0.last })
            #expect(again.path == "/api/chat.update" && again.body.contains("ACKNOWLEDGED: Payments API down"))
            #expect(try await Self.slackRows(s) == ["slack_dm sent U0ANNA -", "slack_dm sent C0CHAN:1700000000.000100 acknowledged",
                                                     "slack_dm sent C0CHAN:1700000000.000100 firing",
                                                     "slack_dm sent C0CHAN:1700000000.000100 acknowledged"])
        }
    }

    /// In sandbox mode the update is recorded like the message it follows, for the outbox page to show.
    @Test func theSandboxRecordsTheFollowUp() async throws {
        let s = try await EscalationScenario.make()
        let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
        let dispatcher = s.dispatcher(clock)
        _ = try await s.engine(clock).tick(s.f.tenant)
        _ = try await dispatcher.drain(s.f.tenant)
        try await s.f.app.test { client in
            let ack = try await client.call(.patch, "/api/v1/alerts/\(s.alertID)/acknowledge", key: s.f.key)
            // Acknowledging twice changes nothing, so nothing more is written.
            let again = try await client.call(.patch, "/api/v1/alerts/\(s.alertID)/acknowledge", key: s.f.key)
            #expect(ack.json["changed"]?.boolValue == true && again.json["changed"]?.boolValue == false)
        }
        clock.advance(to: Date().addingTimeInterval(1))
        _ = try await dispatcher.drain(s.f.tenant)
        #expect(try await Self.slackRows(s) == ["slack_dm sandboxed U0ANNA -", "slack_dm sandboxed U0ANNA acknowledged"])
    }

    /// Each change is followed up, even when the first follow-up was sent at the very instant of the message it edits
    /// (it is not mistaken for a second message of a bundle).
    @Test func everyChangeIsFollowedUpWhateverTheClock() async throws {
        let s = try await EscalationScenario.make()
        // Fixed, and far enough ahead that every row the test writes is due however slow the machine is.
        let clock = DrivenClock(Date().addingTimeInterval(600))
        let dispatcher = s.dispatcher(clock)
        _ = try await s.engine(clock).tick(s.f.tenant)
        _ = try await dispatcher.drain(s.f.tenant)
        try await s.f.app.test { client in
            _ = try await client.call(.patch, "/api/v1/alerts/\(s.alertID)/acknowledge", key: s.f.key)
        }
        _ = try await dispatcher.drain(s.f.tenant)
        try await s.f.app.test { client in
            _ = try await client.call(.patch, "/api/v1/alerts/\(s.alertID)/resolve", key: s.f.key)
        }
        _ = try await dispatcher.drain(s.f.tenant)
        #expect(try await Self.slackRows(s) == ["slack_dm sandboxed U0ANNA -", "slack_dm sandboxed U0ANNA acknowledged",
                                                 "slack_dm sandboxed U0ANNA resolved"])
    }

    /// A message that went out while its alert was being acknowledged is followed up as soon as it is recorded.
    @Test func aMessagePostedWhileTheAlertChangedIsFollowedUp() async throws {
        let s = try await EscalationScenario.make()
        try await DeliveryTests.live(s)
        let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
        let sender = AcknowledgingSender(scenario: s)
        let dispatcher = NotificationDispatcher(database: s.f.app.database, logger: TestDatabase.logger, sender: sender, now: { clock.now })
        _ = try await s.engine(clock).tick(s.f.tenant)
        clock.advance(to: Date().addingTimeInterval(120)) // the follow-up is written during this drain
        _ = try await dispatcher.drain(s.f.tenant)
        let followUp = try #require(sender.sent.withLockedValue { $0.last })
        #expect(followUp.recipient == "C0DM:1700000000.000200" && followUp.payloads.allSatisfy(OutboundPayload.isSlackFollowUp))
        // Someone with a Slack id is mentioned rather than named by email.
        #expect(followUp.payloads.first?.objectValue?["slack_update"]?.objectValue?["by"]?.stringValue == "slack:U0ANNA")
        #expect(try await Self.slackRows(s) == ["slack_dm sent U0ANNA -", "slack_dm sent C0DM:1700000000.000200 acknowledged"])
    }
}

/// Acknowledges the alert (as Slack would have let someone do) while its first message is being sent.
final class AcknowledgingSender: NotificationSender, Sendable {
    let scenario: EscalationScenario
    let sent = NIOLockedValueBox<[OutboundBundle]>([])
    init(scenario: EscalationScenario) { self.scenario = scenario }

    func send(_ bundle: OutboundBundle, tenant: Tenant) async -> DeliveryOutcome {
        let first = sent.withLockedValue { sent in
            defer { sent.append(bundle) }
            return !sent.contains { $0.method == .slackDM }
        }
        if first, bundle.method == .slackDM {
            _ = try? await scenario.f.app.database.withTenant(tenant.slug) { connection in
                // Anna, by her email as the Slack button records her.
                var email = ""
                for try await value in try await connection.query("SELECT email FROM users WHERE slack_user_id = 'U0ANNA'",
                                                                  logger: TestDatabase.logger).decode(String.self) { email = value }
                return try await AlertStore(logger: TestDatabase.logger).acknowledge(scenario.alertID, by: email, on: connection)
            }
        }
        return bundle.method.provider == "slack" ? .delivered(reference: "C0DM:1700000000.000200") : .delivered(reference: "SM0001")
    }
}
