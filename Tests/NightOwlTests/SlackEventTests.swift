import Foundation
import Hummingbird
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import Testing
@testable import NightOwl

/// Slack's Events API: a mention of the app or a DM to it is read as a `/nightowl` command and answered in its thread
/// or DM, through the outbox.
@Suite struct SlackEventTests {
    static let secret = "events-signing-secret"

    static func callback(_ event: String, id: String = "Ev0001") -> JSONValue {
        JSONValue.parse(#"{"token":"x","team_id":"T0001","api_app_id":"A0001","type":"event_callback","event_id":"\#(id)","event_time":1700000000,"event":\#(event)}"#)!
    }

    @Test(arguments: [
        (#"{"type":"url_verification","token":"x","challenge":"3eZbrw1aBm2r"}"#, SlackEvent?.some(.urlVerification(challenge: "3eZbrw1aBm2r"))),
        (callback(#"{"type":"app_mention","user":"U0ANNA","text":"<@U0BOT> oncall  ops","ts":"1700000000.000100","channel":"C0OPS"}"#).jsonText(),
         .request(eventID: "Ev0001", user: "U0ANNA", text: "oncall  ops", channel: "C0OPS", thread: "1700000000.000100")),
        (callback(#"{"type":"app_mention","user":"U0ANNA","text":"<@U0BOT>: ack 6f1c2a7e","ts":"2.0","thread_ts":"1.0","channel":"C0OPS"}"#).jsonText(),
         .request(eventID: "Ev0001", user: "U0ANNA", text: "ack 6f1c2a7e", channel: "C0OPS", thread: "1.0")),
        (callback(#"{"type":"message","channel_type":"im","user":"U0ANNA","text":"search disk full","ts":"3.0","channel":"D0DM"}"#).jsonText(),
         .request(eventID: "Ev0001", user: "U0ANNA", text: "search disk full", channel: "D0DM", thread: nil)),
        // The bot's own answers, edits, and channel chatter are not requests.
        (callback(#"{"type":"message","channel_type":"im","bot_id":"B0BOT","text":"On call now","ts":"4.0","channel":"D0DM"}"#).jsonText(), .ignored),
        (callback(#"{"type":"message","channel_type":"im","subtype":"message_changed","user":"U0ANNA","ts":"5.0","channel":"D0DM"}"#).jsonText(), .ignored),
        (callback(#"{"type":"message","channel_type":"channel","user":"U0ANNA","text":"hello","ts":"6.0","channel":"C0OPS"}"#).jsonText(), .ignored),
        (callback(#"{"type":"app_mention","text":"<@U0BOT> oncall","ts":"7.0","channel":"C0OPS"}"#).jsonText(), .ignored),
        (#"{"type":"event_callback","event":{"type":"app_mention"}}"#, nil),
        (#"{"type":"url_verification"}"#, nil),
        (#"[1,2]"#, nil),
    ])
    func parsing(json: String, expected: SlackEvent?) {
        #expect(SlackEvent.parse(JSONValue.parse(json) ?? .null) == expected)
    }

    @Test(arguments: [("<@U0BOT> oncall", "oncall"), ("  <@U0BOT>, <@U0OTHER> roster ops ", "roster ops"), ("oncall <@U0X>", "oncall <@U0X>"),
                      ("<@U0BOT>", ""), ("<@U0BOT", "<@U0BOT")])
    func mentionsAreStripped(text: String, command: String) { #expect(SlackEvent.commandText(text) == command) }

    static func post(_ client: some TestClientProtocol, _ s: EscalationScenario, _ body: String, secret: String = secret,
                     retry: Int? = nil) async throws -> TestResponse {
        var retryHeaders: HTTPFields = [:]
        if let retry {
            retryHeaders[.init("X-Slack-Retry-Num")!] = String(retry)
            retryHeaders[.init("X-Slack-Retry-Reason")!] = "http_timeout"
        }
        return try await s.slackPost(client, "events", body: body, contentType: "application/json", secret: secret, headers: retryHeaders)
    }

    /// (recipient, thread, text) of the answers queued for Slack outside escalations.
    static func answers(_ s: EscalationScenario) async throws -> [String] {
        try await s.f.app.database.withTenant(s.f.tenant.slug) { connection in
            var rows: [String] = []
            for try await (recipient, thread, text, mode) in try await connection.query("""
                SELECT recipient, payload -> 'slack' ->> 'thread_ts', payload -> 'slack' ->> 'text', mode FROM notification_outbox
                WHERE idempotency_key LIKE 'slack-event:%' ORDER BY created_at, recipient
                """, logger: TestDatabase.logger).decode((String, String?, String, String).self) {
                rows.append("\(recipient) \(thread ?? "-") \(mode) \(text)")
            }
            return rows
        }
    }

    @Test func mentionsAndDirectMessagesAreAnswered() async throws {
        let s = try await EscalationScenario.make()
        let id = s.alertID.uuidString.lowercased()
        try await s.f.app.test { client in
            _ = try await client.call(.put, "/api/v1/admin/config", key: s.f.key, json: #"{"secrets":{"slack_signing_secret":"\#(Self.secret)"}}"#)
            let challenge = try await Self.post(client, s, #"{"type":"url_verification","token":"x","challenge":"3eZbrw1aBm2r"}"#)
            #expect(challenge.status == .ok && challenge.json["challenge"]?.stringValue == "3eZbrw1aBm2r")
            #expect(try await Self.post(client, s, #"{"type":"url_verification","challenge":"c"}"#, secret: "wrong").status == .forbidden)
            let malformed = try await Self.post(client, s, #"{"type":"event_callback""#)
            #expect(malformed.status == .badRequest && malformed.json["error"]?["code"]?.stringValue != nil)

            // A mention acknowledges the alert and answers in the thread of the mention.
            let mention = Self.callback(#"{"type":"app_mention","user":"U0ANNA","text":"<@U0BOT> ack \#(id.prefix(8))","ts":"1700000000.000100","channel":"C0OPS"}"#,
                                        id: "Ev0MENTION").jsonText()
            #expect(try await Self.post(client, s, mention).status == .ok)
            let alert = try await client.call(.get, "/api/v1/alerts/\(id)", key: s.f.key)
            #expect(alert.json["status"]?.stringValue == "acknowledged" && alert.json["acknowledged_by"]?.stringValue?.hasPrefix("anna-") == true)
            // Slack's retry of the same delivery answers nothing twice.
            #expect(try await Self.post(client, s, mention, retry: 1).status == .ok)
            // A DM is answered in the DM; a stranger is told to link the account; the bot's own message is ignored.
            let dm = Self.callback(#"{"type":"message","channel_type":"im","user":"U0ANNA","text":"oncall","ts":"1700000001.000100","channel":"D0DM"}"#,
                                   id: "Ev0DM").jsonText()
            #expect(try await Self.post(client, s, dm).status == .ok)
            let stranger = Self.callback(#"{"type":"app_mention","user":"U0STRANGER","text":"<@U0BOT> oncall","ts":"1700000002.000100","channel":"C0OPS"}"#,
                                         id: "Ev0STRANGER").jsonText()
            #expect(try await Self.post(client, s, stranger).status == .ok)
            let own = Self.callback(#"{"type":"message","channel_type":"im","bot_id":"B0BOT","text":"On call now","ts":"1700000003.000100","channel":"D0DM"}"#,
                                    id: "Ev0BOT").jsonText()
            #expect(try await Self.post(client, s, own).status == .ok)
        }
        let answers = try await Self.answers(s)
        #expect(answers.count == 3, "\(answers)")
        #expect(answers.contains { $0.hasPrefix("C0OPS 1700000000.000100 sandbox 👀 Acknowledged: Payments API down.") }, "\(answers)")
        #expect(answers.contains { $0.hasPrefix("D0DM - sandbox On call now:") }, "\(answers)")
        #expect(answers.contains { $0 == "C0OPS 1700000002.000100 sandbox \(SlackRoutes.commandRefusal)" }, "\(answers)")
        // The answers are delivered like any message (here recorded by the sandbox).
        let clock = DrivenClock(Date().addingTimeInterval(10))
        _ = try await s.dispatcher(clock).drain(s.f.tenant)
        let statuses = try await s.f.app.database.withTenant(s.f.tenant.slug) { connection in
            var rows: [String] = []
            for try await status in try await connection.query("""
                SELECT status FROM notification_outbox WHERE idempotency_key LIKE 'slack-event:%'
                """, logger: TestDatabase.logger).decode(String.self) { rows.append(status) }
            return rows
        }
        #expect(statuses == ["sandboxed", "sandboxed", "sandboxed"])
    }
}
