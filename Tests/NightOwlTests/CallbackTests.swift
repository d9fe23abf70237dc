import Foundation
import Hummingbird
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import Testing
@testable import NightOwl

@Suite struct CallbackTests {
    @Test func slackButtonsAreVerifiedAndAcknowledge() async throws {
        let s = try await EscalationScenario.make()
        let id = s.alertID.uuidString.lowercased()
        try await s.f.app.test { client in
            _ = try await client.call(.put, "/api/v1/admin/config", key: s.f.key, json: #"{"secrets":{"slack_signing_secret":"8f742231b10e8888abcd99yyyzzz85a5"}}"#)
            let payload = #"{"type":"block_actions","user":{"id":"U0ANNA"},"actions":[{"action_id":"ack_alert","value":"\#(id)"}]}"#
            func post(timestamp: Date, secret: String = "8f742231b10e8888abcd99yyyzzz85a5") async throws -> TestResponse {
                try await s.slackPost(client, "interactions", form: [("payload", payload)], secret: secret, at: timestamp)
            }
            #expect(try await post(timestamp: Date(), secret: "not-the-secret").status == .forbidden)
            #expect(try await post(timestamp: Date().addingTimeInterval(-301)).status == .forbidden, "older than five minutes")
            let pressed = try await post(timestamp: Date())
            #expect(pressed.status == .ok && pressed.json["text"]?.stringValue?.contains("Acknowledged by <@U0ANNA>") == true, "\(pressed.text)")
            let alert = try await client.call(.get, "/api/v1/alerts/\(id)", key: s.f.key)
            #expect(alert.json["status"]?.stringValue == "acknowledged")
            #expect(alert.json["acknowledged_by"]?.stringValue?.hasPrefix("anna-") == true, "the Slack member is the user with that id")
        }
    }

    /// Only an active user with the engineer role or above, linked by `slack_user_id`, acts from Slack; anyone else in
    /// the workspace is refused (and told so by DM), and the alert keeps paging.
    @Test func slackButtonsNeedALinkedEngineer() async throws {
        let s = try await EscalationScenario.make()
        let id = s.alertID.uuidString.lowercased()
        let secret = "8f742231b10e8888abcd99yyyzzz85a5"
        try await s.f.app.test { client in
            _ = try await client.call(.put, "/api/v1/admin/config", key: s.f.key, json: #"{"secrets":{"slack_signing_secret":"\#(secret)"}}"#)
            let viewer = try await client.call(.post, "/api/v1/users", key: s.f.key, json: #"""
                {"email":"viewer-\#(UUID().uuidString.prefix(6))@example.com","display_name":"Viewer","role":"readonly","slack_user_id":"U0VIEWER"}
                """#)
            #expect(viewer.status == .created, "\(viewer.text)")
            func press(_ action: String, as user: String) async throws -> TestResponse {
                let payload = #"{"type":"block_actions","user":{"id":"\#(user)"},"actions":[{"action_id":"\#(action)","value":"\#(id)"}]}"#
                return try await s.slackPost(client, "interactions", form: [("payload", payload)], secret: secret)
            }
            let firstMinute = Int(Date().timeIntervalSince1970 / 60)
            for (action, user) in [("ack_alert", "U0STRANGER"), ("escalate_alert", "U0STRANGER"), ("ack_alert", "U0VIEWER")] {
                let refused = try await press(action, as: user)
                #expect(refused.status == .ok && refused.json["text"]?.stringValue == SlackRoutes.refusal, "\(user) \(action): \(refused.text)")
            }
            #expect(try await press("view_runbook", as: "U0STRANGER").status == .ok, "a link button changes nothing and is not refused")
            let alert = try await client.call(.get, "/api/v1/alerts/\(id)", key: s.f.key)
            #expect(alert.json["status"]?.stringValue == "firing")
            let refusals = try await s.f.app.database.withTenant(s.f.tenant.slug) { connection -> [String] in
                var rows: [String] = []
                for try await (recipient, text) in try await connection.query("""
                    SELECT recipient, payload -> 'slack' ->> 'text' FROM notification_outbox WHERE alert_id IS NULL ORDER BY recipient
                    """, logger: TestDatabase.logger).decode((String, String).self) { rows.append("\(recipient): \(text == SlackRoutes.refusal)") }
                return rows
            }
            // The key is the person and the minute: presses on either side of a minute's end may each send one.
            let sameMinute = firstMinute == Int(Date().timeIntervalSince1970 / 60)
            #expect(refusals == ["U0STRANGER: true", "U0VIEWER: true"] || (!sameMinute && refusals == ["U0STRANGER: true", "U0STRANGER: true", "U0VIEWER: true"]),
                    "one DM a minute per person, however often they press: \(refusals)")
            let acknowledged = try await press("ack_alert", as: "U0ANNA")
            #expect(acknowledged.json["text"]?.stringValue?.contains("Acknowledged by <@U0ANNA>") == true, "\(acknowledged.text)")
        }
    }

    /// `ack` without an id acknowledges the open alerts last sent to that number; `ESC <id>` escalates at once.
    @Test func smsRepliesAcknowledgeAndEscalate() async throws {
        let s = try await EscalationScenario.make()
        let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
        _ = try await s.engine(clock).tick(s.f.tenant)
        _ = try await s.dispatcher(clock).drain(s.f.tenant)
        let path = "/api/v1/twilio/sms?tenant=\(s.f.tenant.slug.value)"
        let id = s.alertID.uuidString.lowercased()
        try await s.f.app.test { client in
            let unknown = try await s.twilioPost(client, path, form: [("From", "+4915100000001"), ("Body", "hello")])
            #expect(unknown.text.contains("Reply ACK to acknowledge or ESC to escalate"))
            let escalated = try await s.twilioPost(client, path, form: [("From", "+4915100000001"), ("Body", "esc \(id.prefix(8))")])
            #expect(escalated.text.contains("Escalated 1 alert."), "\(escalated.text)")
            let acknowledged = try await s.twilioPost(client, path, form: [("From", "+4915100000001"), ("Body", "Ack")])
            #expect(acknowledged.text.contains("<Message>Acknowledged 1 alert.</Message>"), "\(acknowledged.text)")
            #expect(try await client.call(.get, "/api/v1/alerts/\(id)", key: s.f.key).json["acknowledged_by"]?.stringValue == "sms:+4915100000001")
            let again = try await s.twilioPost(client, path, form: [("From", "+4915100000001"), ("Body", "ACK")])
            #expect(again.text.contains("No open alert matches"))
            let stranger = try await s.twilioPost(client, path, form: [("From", "+4915199999999"), ("Body", "ACK")])
            #expect(stranger.text.contains("No open alert matches"))
        }
        // The escalation made tier 2 due before its timeout, but the acknowledgement came first: nothing more is queued.
        _ = try await s.engine(clock).tick(s.f.tenant)
        #expect(try await s.outbox().count == 2)
    }
}
