import Foundation
import Hummingbird
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import Testing
@testable import NightOwl

@Suite struct SlackCommandTests {
    @Test(arguments: [
        ("", SlackCommand.help(problem: nil)), ("help", .help(problem: nil)), ("  oncall  ", .oncall(roster: nil)),
        ("oncall  Ops   Team", .oncall(roster: "Ops Team")), ("roster", .roster(nil)), ("schedule ops", .roster("ops")),
        ("ack 6F1C2A7E", .acknowledge(alert: "6f1c2a7e")),
        ("acknowledge 6f1c2a7e-0000-4000-8000-000000000001", .acknowledge(alert: "6f1c2a7e-0000-4000-8000-000000000001")),
        ("ack", .help(problem: "`ack` needs one alert id (or its first 8 characters).")),
        ("ack 6f1c2a", .help(problem: "`ack` needs one alert id (or its first 8 characters).")),
        ("ack zzzzzzzz", .help(problem: "`ack` needs one alert id (or its first 8 characters).")),
        ("ack 6f1c2a7e 1a2b3c4d", .help(problem: "`ack` needs one alert id (or its first 8 characters).")),
        ("resolve 6f1c2a7e", .resolve(alert: "6f1c2a7e", notes: nil)),
        ("resolve 6f1c2a7e restarted   the gateway", .resolve(alert: "6f1c2a7e", notes: "restarted the gateway")),
        ("resolve please", .help(problem: "`resolve` needs an alert id (or its first 8 characters), then notes if you like.")),
        ("search", .help(problem: "`search` needs words to look for.")), ("Search disk full", .search("disk full")),
        ("frobnicate now", .help(problem: "There is no `frobnicate` command.")),
    ])
    func parsing(text: String, expected: SlackCommand) { #expect(SlackCommand.parse(text) == expected) }

    @Test func onlyReadingCommandsAreOpenToReadonlyUsers() {
        #expect(SlackCommand.acknowledge(alert: "6f1c2a7e").changesAlerts && SlackCommand.resolve(alert: "6f1c2a7e", notes: nil).changesAlerts)
        #expect(![SlackCommand.search("x"), .oncall(roster: nil), .roster(nil), .help(problem: nil)].contains { $0.changesAlerts })
    }

    @Test func personsShowTheirLocalTime() {
        let at = Date(timeIntervalSince1970: 1_700_000_000) // 22:13 UTC, 23:13 in Berlin
        #expect(SlackCommandReplies.person(.init(name: "Anna", slackID: "U0ANNA", timezone: "Europe/Berlin"), at: at) == "<@U0ANNA> (23:13 in Europe/Berlin)")
        #expect(SlackCommandReplies.person(.init(name: "Ben <b>", slackID: nil, timezone: "UTC"), at: at) == "*Ben &lt;b&gt;* (22:13 in UTC)")
        #expect(SlackCommandReplies.person(nil, at: at) == "nobody")
    }

    /// The command as Slack sends it: form-encoded, signed, with the member's id and the text after `/nightowl`.
    static func run(_ client: some TestClientProtocol, _ s: EscalationScenario, _ text: String, as user: String = "U0ANNA",
                    secret: String = "cmd-secret") async throws -> TestResponse {
        try await s.slackPost(client, "commands", form: [
            ("token", "deprecated"), ("team_id", "T0001"), ("channel_id", "C0OPS"), ("user_id", user), ("command", "/nightowl"),
            ("text", text), ("response_url", "https://hooks.slack.com/commands/1/2/3"), ("trigger_id", "13345224609.738474920.8088930838d88f008e0"),
        ], secret: secret)
    }

    /// Everything the reply shows: its text and the text of its blocks.
    static func shown(_ response: TestResponse) -> String {
        var parts = [response.json["text"]?.stringValue ?? ""]
        if case .array(let blocks)? = response.json["blocks"] {
            parts += blocks.compactMap { $0.objectValue?["text"]?.objectValue?["text"]?.stringValue }
        }
        return parts.joined(separator: "\n")
    }

    @Test func commandsReadAndActForLinkedUsers() async throws {
        let s = try await EscalationScenario.make()
        let id = s.alertID.uuidString.lowercased()
        try await s.f.app.test { client in
            _ = try await client.call(.put, "/api/v1/admin/config", key: s.f.key, json: #"""
                {"settings":{"public_base_url":"https://owl.example.com"},"secrets":{"slack_signing_secret":"cmd-secret"}}
                """#)
            _ = try await client.createIncident(s.f.key, #"""
                {"title":"Payments gateway timeouts","severity":"critical","symptoms":"payments fail","solution":"Restart the gateway pods"}
                """#)
            let viewer = try await client.call(.post, "/api/v1/users", key: s.f.key, json: #"""
                {"email":"viewer-\#(UUID().uuidString.prefix(6))@example.com","display_name":"Viewer","role":"readonly","slack_user_id":"U0VIEWER"}
                """#)
            #expect(viewer.status == .created)

            #expect(try await Self.run(client, s, "oncall", secret: "wrong").status == .forbidden)
            let anonymous = try await s.slackPost(client, "commands", form: [("command", "/nightowl"), ("text", "oncall")], secret: "cmd-secret")
            #expect(anonymous.status == .badRequest && anonymous.json["error"]?["code"]?.stringValue != nil, "\(anonymous.text)")
            let stranger = try await Self.run(client, s, "oncall", as: "U0STRANGER")
            #expect(stranger.status == .ok && Self.shown(stranger) == SlackRoutes.commandRefusal)

            let help = try await Self.run(client, s, "")
            #expect(help.json["response_type"]?.stringValue == "ephemeral" && Self.shown(help).contains("/nightowl oncall [roster]"))
            let oncall = try await Self.run(client, s, "oncall")
            #expect(Self.shown(oncall).contains("*Ops*: <@U0ANNA> ("), "\(oncall.text)")
            #expect(Self.shown(oncall).contains(", secondary *Ben* (") && Self.shown(oncall).contains(", until <!date^"))
            #expect(Self.shown(try await Self.run(client, s, "oncall nothing-like-it")) == "No active roster matches.")
            let week = try await Self.run(client, s, "roster OPS")
            #expect(Self.shown(week).contains("*Ops*, the next 7 days:\n• <!date^"), "\(week.text)")

            let search = try await Self.run(client, s, "search payments gateway", as: "U0VIEWER")
            #expect(Self.shown(search).contains("Payments gateway timeouts") && Self.shown(search).contains("💡 Restart the gateway pods"), "\(search.text)")
            #expect(search.text.contains(#""url":"https:\/\/owl.example.com\/api\/v1\/incidents\/"#) || search.text.contains("https://owl.example.com/api/v1/incidents/"))
            #expect(Self.shown(try await Self.run(client, s, "search zebra quantum")).hasPrefix("Nothing in the knowledge base matches"))

            // Reading is for everyone linked; changing an alert is not.
            let refused = try await Self.run(client, s, "ack \(id.prefix(8))", as: "U0VIEWER")
            #expect(Self.shown(refused).contains("needs the engineer role; yours is readonly"))
            #expect(try await client.call(.get, "/api/v1/alerts/\(id)", key: s.f.key).json["status"]?.stringValue == "firing")

            #expect(Self.shown(try await Self.run(client, s, "ack ffffffff")) == "No alert has an id starting with `ffffffff`.")
            let acknowledged = try await Self.run(client, s, "ack \(id.prefix(8).uppercased())")
            #expect(Self.shown(acknowledged) == "👀 Acknowledged: Payments API down. Its escalation has stopped.", "\(acknowledged.text)")
            let again = try await Self.run(client, s, "ack \(id)")
            #expect(Self.shown(again).contains("was already acknowledged or resolved"))
            let resolved = try await Self.run(client, s, "resolve \(id) restarted the gateway")
            #expect(Self.shown(resolved).hasPrefix("✅ Resolved: Payments API down.") && Self.shown(resolved).contains("This looks like a *new issue*"))
            #expect(resolved.text.contains(SlackKnowledgeModal.openAction) && resolved.text.contains(SlackKnowledgeModal.skipAction))
            let alert = try await client.call(.get, "/api/v1/alerts/\(id)", key: s.f.key)
            #expect(alert.json["status"]?.stringValue == "resolved" && alert.json["resolution_notes"]?.stringValue == "restarted the gateway")
            #expect(alert.json["acknowledged_by"]?.stringValue?.hasPrefix("anna-") == true && alert.json["resolved_by"]?.stringValue?.hasPrefix("anna-") == true)
            await s.f.app.platform.audit.flush()
            let audit = try await client.call(.get, "/api/v1/audit-log?resource=alert", key: s.f.key)
            #expect(audit.text.contains("alert.resolve") && audit.text.contains("restarted the gateway"), "\(audit.text.prefix(400))")
        }
    }
}
