import Foundation
import Hummingbird
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

/// What happens to an alert is told in the thread of its channel message: acknowledged, resolved (how long it took,
/// the notes, whether the knowledge base knows it), escalated, every tier paged in vain, recorded in the knowledge base.
@Suite struct SlackThreadNoteTests {
    static let fired = Date(timeIntervalSince1970: 1_700_000_000)

    @Test(arguments: [(0.0, "0 s"), (59.9, "59 s"), (60, "1 min"), (3_599, "59 min"), (3_600, "1 h"), (3_900, "1 h 5 min"),
                      (86_400, "1 d"), (97_200, "1 d 3 h"), (-5, "0 s")])
    func durationsReadAtAGlance(seconds: Double, text: String) {
        #expect(SlackThreadNote.duration(seconds) == text)
    }

    @Test(arguments: [
        (SlackThreadNote(event: .acknowledged, by: "slack:U0ANNA", at: fired.addingTimeInterval(180), firedAt: fired),
         "👀 Acknowledged by <@U0ANNA> 3 min after it fired."),
        (SlackThreadNote(event: .acknowledged, by: "anna@example.com"), "👀 Acknowledged by *anna@example.com*."),
        (SlackThreadNote(event: .firing, by: "slack:U0ANNA"), "🔥 Firing again: the acknowledgement was taken back by <@U0ANNA>. The escalation goes on."),
        (SlackThreadNote(event: .resolved, by: "alertmanager", at: fired.addingTimeInterval(2_520), firedAt: fired, count: 7,
                         acknowledgedBy: "slack:U0ANNA", acknowledgedAt: fired.addingTimeInterval(180), notes: "restarted <etcd>\nand waited",
                         known: false),
         "✅ Resolved by *alertmanager* 42 min after it fired (acknowledged by <@U0ANNA> after 3 min). It fired 7 times.\n"
            + ">restarted &lt;etcd&gt;\n>and waited\n"
            + "📚 The knowledge base has no entry for it yet: *📝 Add to Knowledge Base* above records how it was fixed."),
        (SlackThreadNote(event: .resolved, by: "ben@example.com", at: fired.addingTimeInterval(60), firedAt: fired, count: 1, known: true,
                         entry: "etcd leader lost"),
         "✅ Resolved by *ben@example.com* 1 min after it fired.\n📚 Known issue: *etcd leader lost*"),
        (SlackThreadNote(event: .escalated, tier: 2, round: 0, paged: ["<@U0BEN> (phone call, SMS)"], unreachable: ["Carl has no phone number"]),
         "🔼 Escalated to tier 2: <@U0BEN> (phone call, SMS).\n⚠️ Not reached: Carl has no phone number."),
        (SlackThreadNote(event: .escalated, tier: 1, round: 1, paged: []),
         "🔁 Nobody acknowledged: paging tier 1 again (round 2), but nobody could be paged."),
        (SlackThreadNote(event: .escalated, by: "slack:U0ANNA", tier: 3, round: 0, paged: ["*Carl* (phone call)"]),
         "🔼 Escalated to tier 3 by <@U0ANNA>: *Carl* (phone call)."),
        (SlackThreadNote(event: .escalated, by: "+4915100000001", tier: 1, round: 2, paged: ["#ops (channel post)"]),
         "🔁 Asked by *+4915100000001*: paging tier 1 again (round 3): #ops (channel post)."),
        (SlackThreadNote(event: .exhausted, at: fired.addingTimeInterval(1_800), firedAt: fired),
         "⚠️ Every tier of the escalation policy was paged and nobody acknowledged 30 min since it fired. The alert is still open."),
        (SlackThreadNote(event: .known, by: "slack:U0ANNA", entry: "Payments & gateway"),
         "📚 Added to the knowledge base by <@U0ANNA>: *Payments &amp; gateway*. The next time this alert fires, its message brings the solution."),
    ])
    func notesSayWhatHappened(note: SlackThreadNote, text: String) throws {
        #expect(note.text == text)
        // What the outbox row holds reads back as the same note (the thread is added per message by the database).
        var stored = try #require(note.json.objectValue)
        stored["channel"] = "C0CHAN"
        stored["thread_ts"] = "1700000000.000100"
        var threaded = note
        threaded.channel = "C0CHAN"
        threaded.threadTS = "1700000000.000100"
        #expect(SlackThreadNote(.object(["slack_thread": .object(stored)])) == threaded)
        let message = try #require(threaded.message(SlackFollowUpTests.notice).objectValue)
        #expect(message["channel"]?.stringValue == "C0CHAN" && message["thread_ts"]?.stringValue == "1700000000.000100")
        #expect(message["text"]?.stringValue == text)
    }

    @Test func anEscalationNoteNamesEachPersonOnceWithEveryWay() {
        let ben = UUID(), carl = UUID()
        let planned = [
            PlannedNotification(method: .phone, target: .user(ben), recipient: "+4915100000002", userID: ben, userName: "Ben"),
            PlannedNotification(method: .phone, target: .user(carl), recipient: "+4915100000003", userID: carl, userName: "Carl <ops>"),
            PlannedNotification(method: .sms, target: .user(ben), recipient: "+4915100000002", userID: ben, userName: "Ben"),
            PlannedNotification(method: .slackDM, target: .user(carl), recipient: nil, userID: carl, userName: "Carl <ops>",
                                problem: "Carl has no slack_user_id"),
            PlannedNotification(method: .slackChannel, target: .channel("#ops"), recipient: "#ops"),
            PlannedNotification(method: .webhook, target: .webhook("https://hooks.example.com/t0ken"), recipient: "https://hooks.example.com/t0ken"),
        ]
        let note = SlackThreadNote.escalation(tier: 2, round: 0, planned: planned, slackIDs: [ben: "U0BEN"], at: Self.fired)
        #expect(note.paged == ["<@U0BEN> (phone call, SMS)", "*Carl &lt;ops&gt;* (phone call)", "#ops (channel post)", "a webhook"])
        #expect(note.unreachable == ["Carl has no slack_user_id"])
        #expect(!note.text.contains("t0ken"))
    }

    // MARK: Against PostgreSQL

    /// The scenario's policy, with the first tier also posting to `#ops`.
    static func withChannel(_ s: EscalationScenario) async throws {
        try await s.f.app.test { client in
            let roster = try await client.call(.get, "/api/v1/escalation-policies/\(s.policy)", key: s.f.key)
                .json["tiers"]?.arrayValue?.first?["targets"]?.arrayValue?.first?["roster_id"]?.stringValue
            let updated = try await client.call(.put, "/api/v1/escalation-policies/\(s.policy)", key: s.f.key, json: #"""
                {"name":"Default","is_default":true,"severity_threshold":"critical","tiers":[
                  {"timeout_minutes":5,"targets":[{"type":"roster_primary","roster_id":"\#(roster ?? "")"},{"type":"channel","channel":"#ops"}],
                   "methods":["slack_dm","slack_channel"]},
                  {"timeout_minutes":10,"targets":[{"type":"roster_secondary","roster_id":"\#(roster ?? "")"}],"methods":["phone","sms"]},
                  {"timeout_minutes":15,"targets":[{"type":"user","user_id":"\#(s.carl)"}],"methods":["phone"]}]}
                """#)
            guard updated.status == .ok else { throw TestDatabase.SetupError("policy: \(updated.status) \(updated.text)") }
        }
    }

    /// (method, recipient, event, status[, the reply's reference]) of the alert's thread notes, in the order queued.
    static func notes(_ s: EscalationScenario) async throws -> [String] {
        try await s.f.app.database.withTenant(s.f.tenant.slug) { connection in
            var rows: [String] = []
            for try await (method, recipient, event, status, reply) in try await connection.query("""
                SELECT method, recipient, payload -> 'slack_thread' ->> 'event', status, provider_reference FROM notification_outbox
                WHERE alert_id = \(s.alertID) AND payload ? 'slack_thread' ORDER BY created_at, id
                """, logger: TestDatabase.logger).decode((String, String, String, String, String?).self) {
                rows.append(([method, recipient, event, status] + (reply.map { [$0] } ?? [])).joined(separator: " "))
            }
            return rows
        }
    }

    /// The scenario with its channel, Slack live against the local Slack on `slackPort`, and the first tier paged.
    /// Also the dispatcher's metrics.
    static func paged(slackPort: Int) async throws -> (EscalationScenario, DrivenClock, NotificationDispatcher, HTTPMetrics) {
        let s = try await EscalationScenario.make()
        try await withChannel(s)
        let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
        let registry = HTTPMetrics(prefix: "nightowl")
        var dispatcher = try await s.liveSlack(apiBase: "http://127.0.0.1:\(slackPort)/api", clock)
        dispatcher.metrics = WorkerMetrics(registry)
        _ = try await s.engine(clock).tick(s.f.tenant)
        _ = try await dispatcher.drain(s.f.tenant)
        return (s, clock, dispatcher, registry)
    }

    @Test func theChannelsThreadTellsTheAlertsStory() async throws {
        let fake = FakeProviders()
        try await fake.application().test(.live) { server in
            let (s, clock, dispatcher, registry) = try await Self.paged(slackPort: try #require(server.port))
            #expect(fake.seen.withLockedValue { $0.filter { $0.path == "/api/chat.postMessage" }.count } == 2)
            func threadPosts() -> [JSONValue] {
                fake.seen.withLockedValue { $0.filter { $0.path == "/api/chat.postMessage" && $0.body.contains("thread_ts") } }
                    .compactMap { JSONValue.parse($0.body) }
            }
            #expect(threadPosts().isEmpty)

            // Nobody answers: the second tier is paged, and the channel's thread says whom.
            clock.advance(to: s.firedAt.addingTimeInterval(5 * 60 + 2))
            _ = try await s.engine(clock).tick(s.f.tenant)
            _ = try await dispatcher.drain(s.f.tenant)
            let escalated = try #require(threadPosts().last)
            #expect(escalated["channel"]?.stringValue == "C0CHAN" && escalated["thread_ts"]?.stringValue == "1700000000.000100")
            #expect(escalated["text"]?.stringValue == "🔼 Escalated to tier 2: *Ben* (phone call, SMS).", "\(escalated)")

            try await s.f.app.test { client in
                let ack = try await client.call(.patch, "/api/v1/alerts/\(s.alertID)/acknowledge", key: s.f.key)
                #expect(ack.status == .ok)
            }
            clock.advance(to: Date().addingTimeInterval(1))
            _ = try await dispatcher.drain(s.f.tenant)
            #expect(threadPosts().count == 2)
            #expect(threadPosts().last?["text"]?.stringValue?.hasPrefix("👀 Acknowledged by *") == true)
            #expect(threadPosts().last?["text"]?.stringValue?.hasSuffix("after it fired.") == true)

            try await s.f.app.test { client in
                let resolved = try await client.call(.patch, "/api/v1/alerts/\(s.alertID)/resolve", key: s.f.key, json: #"{"notes":"restarted the gateway"}"#)
                #expect(resolved.status == .ok)
            }
            clock.advance(to: Date().addingTimeInterval(1))
            _ = try await dispatcher.drain(s.f.tenant)
            let summary = try #require(threadPosts().last?["text"]?.stringValue)
            #expect(summary.hasPrefix("✅ Resolved by *") && summary.contains("(acknowledged by *"), "\(summary)")
            #expect(summary.contains("\n>restarted the gateway\n📚 The knowledge base has no entry for it yet"), "\(summary)")
            // One note per event, only in the channel message's thread (the DM is edited, not threaded), each sent once.
            let reply = "C0CHAN:1700000001.000300"
            #expect(try await Self.notes(s) == ["slack_channel C0CHAN:1700000000.000100 escalated sent \(reply)",
                                                "slack_channel C0CHAN:1700000000.000100 acknowledged sent \(reply)",
                                                "slack_channel C0CHAN:1700000000.000100 resolved sent \(reply)"])
            #expect(threadPosts().count == 3)
            // Resolving again, or the worker running again, adds nothing.
            try await s.f.app.test { client in
                _ = try await client.call(.patch, "/api/v1/alerts/\(s.alertID)/resolve", key: s.f.key)
            }
            _ = try await dispatcher.drain(s.f.tenant)
            #expect(threadPosts().count == 3)
            // Counted by kind: the two messages that paged, the four edits, the three notes.
            let exported = registry.render()
            for (kind, count) in [("alert", 2), ("update", 4), ("thread", 3), ("notice", 0)] {
                #expect(exported.contains("nightowl_slack_notifications_total{type=\"\(kind)\"} \(count)\n"), "\(kind) in \(exported)")
            }
        }
    }

    /// A note that fails is retried, and posted once when it gets through (each note is a delivery of its own).
    @Test func aFailedNoteIsRetried() async throws {
        let fake = FakeProviders()
        try await fake.application().test(.live) { server in
            let (s, clock, dispatcher, _) = try await Self.paged(slackPort: try #require(server.port))
            try await s.f.app.test { client in
                let ack = try await client.call(.patch, "/api/v1/alerts/\(s.alertID)/acknowledge", key: s.f.key)
                #expect(ack.status == .ok)
            }
            // The two edits and the note all meet a Slack outage.
            fake.script.withLockedValue { $0 = Array(repeating: .slackError("service_unavailable"), count: 3) }
            clock.advance(to: Date().addingTimeInterval(1))
            _ = try await dispatcher.drain(s.f.tenant)
            #expect(try await Self.notes(s) == ["slack_channel C0CHAN:1700000000.000100 acknowledged pending"])
            clock.advance(to: Date().addingTimeInterval(60))
            _ = try await dispatcher.drain(s.f.tenant)
            #expect(try await Self.notes(s) == ["slack_channel C0CHAN:1700000000.000100 acknowledged sent C0CHAN:1700000001.000300"])
            let threadPosts = fake.seen.withLockedValue { $0.filter { $0.body.contains("thread_ts") }.count }
            #expect(threadPosts == 2)
            #expect(fake.seen.withLockedValue { $0.filter { $0.path == "/api/chat.update" }.count } == 4)
        }
    }

    /// Pressing Escalate makes the next tier due at once, and its note says who asked.
    @Test func theEscalationNoteNamesWhoPressedEscalate() async throws {
        let s = try await EscalationScenario.make()
        try await Self.withChannel(s)
        let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
        let dispatcher = s.dispatcher(clock)
        _ = try await s.engine(clock).tick(s.f.tenant)
        _ = try await dispatcher.drain(s.f.tenant)
        try await s.f.app.test { client in
            _ = try await client.call(.put, "/api/v1/admin/config", key: s.f.key,
                                      json: #"{"secrets":{"slack_signing_secret":"\#(SlackKnowledgeTests.secret)"}}"#)
            let pressed = try await SlackKnowledgeTests.interact(client, s, SlackKnowledgeTests.press(
                "escalate_alert", alert: s.alertID, responseURL: "https://hooks.slack.com/actions/T1/2/x"))
            #expect(pressed.status == .ok, "\(pressed.text)")
        }
        clock.advance(to: Date().addingTimeInterval(1)) // well before tier 1's five minutes are up
        _ = try await s.engine(clock).tick(s.f.tenant)
        let note = try await s.f.app.database.withTenant(s.f.tenant.slug) { connection -> (SlackThreadNote?, String?) in
            var payload = ""
            for try await text in try await connection.query("""
                SELECT payload::text FROM notification_outbox WHERE alert_id = \(s.alertID) AND payload ? 'slack_thread'
                """, logger: TestDatabase.logger).decode(String.self) { payload = text }
            var requested: String?
            for try await by in try await connection.query("""
                SELECT requested_by FROM escalation_state WHERE alert_id = \(s.alertID)
                """, logger: TestDatabase.logger).decode(String?.self) { requested = by }
            return (SlackThreadNote(JSONValue.parse(payload) ?? .null), requested)
        }
        #expect(note.0?.text == "🔼 Escalated to tier 2 by <@U0ANNA>: *Ben* (phone call, SMS).", "\(String(describing: note.0))")
        #expect(note.1 == nil, "the request is used up by the step it asked for")
    }

    /// In sandbox mode the notes are recorded like the messages they follow; an unanswered alert's thread says when
    /// every tier has been paged; the knowledge-base modal's entry is told too.
    @Test func theSandboxRecordsEveryNote() async throws {
        let s = try await EscalationScenario.make()
        try await Self.withChannel(s)
        let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
        let dispatcher = s.dispatcher(clock)
        for minutes in [0.0, 5, 15, 30] {
            clock.advance(to: s.firedAt.addingTimeInterval(minutes * 60 + 2))
            _ = try await s.engine(clock).tick(s.f.tenant)
            _ = try await dispatcher.drain(s.f.tenant)
        }
        #expect(try await Self.notes(s) == ["slack_channel #ops escalated sandboxed", "slack_channel #ops escalated sandboxed",
                                            "slack_channel #ops exhausted sandboxed"])
        try await s.f.app.test { client in
            _ = try await client.call(.patch, "/api/v1/alerts/\(s.alertID)/resolve", key: s.f.key)
            _ = try await client.call(.put, "/api/v1/admin/config", key: s.f.key,
                                      json: #"{"secrets":{"slack_signing_secret":"\#(SlackKnowledgeTests.secret)"}}"#)
            let saved = try await SlackKnowledgeTests.interact(client, s, SlackKnowledgeTests.submission(
                metadata: #"{"alert_id":"\#(s.alertID.uuidString.lowercased())"}"#, values: SlackKnowledgeTests.values()))
            #expect(saved.json["response_action"]?.stringValue == "update", "\(saved.text)")
        }
        clock.advance(to: Date().addingTimeInterval(60))
        _ = try await dispatcher.drain(s.f.tenant)
        #expect(try await Self.notes(s).suffix(2) == ["slack_channel #ops resolved sandboxed", "slack_channel #ops known sandboxed"])
        let known = try await s.f.app.database.withTenant(s.f.tenant.slug) { connection in
            var payload = ""
            for try await text in try await connection.query("""
                SELECT payload::text FROM notification_outbox WHERE alert_id = \(s.alertID) AND payload -> 'slack_thread' ->> 'event' = 'known'
                """, logger: TestDatabase.logger).decode(String.self) { payload = text }
            return SlackThreadNote(JSONValue.parse(payload) ?? .null)
        }
        #expect(known?.by == "slack:U0ANNA" && known?.entry == "Payments API down", "\(String(describing: known))")
    }
}
