import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

/// Three people, a daily roster (Anna primary, Ben secondary today), a three-tier default policy, Twilio credentials
/// for signatures, and one critical alert.
struct EscalationScenario: Sendable {
    let f: NightOwlFixture
    let anna: String, ben: String, carl: String
    let policy: String
    let alertID: UUID
    let firedAt: Date
    static let authToken = "twilio-test-auth-token"
    static let publicURL = "https://owl.example.com"

    static func make() async throws -> EscalationScenario {
        let f = try await NightOwlFixture.make()
        return try await f.app.test { client in
            let anna = try await client.createUser(f.key, "Anna", phone: "+4915100000001")
            _ = try await client.call(.put, "/api/v1/users/\(anna)", key: f.key, json: #"{"slack_user_id":"U0ANNA"}"#)
            let ben = try await client.createUser(f.key, "Ben", phone: "+4915100000002")
            let carl = try await client.createUser(f.key, "Carl", phone: "+4915100000003")
            // Started long ago with two members: whoever is primary today, the other is secondary.
            let roster = try await client.createRoster(f.key, #"""
                {"name":"Ops","timezone":"UTC","rotation_type":"custom","rotation_length_days":365,"handoff_time":"00:00","start_date":"2020-01-01","members":["\#(anna)","\#(ben)"]}
                """#)
            let primaryNow = try await client.call(.get, "/api/v1/rosters/\(roster)/oncall", key: f.key).json["primary"]?["user_id"]?.stringValue?.lowercased()
            if primaryNow != anna {
                _ = try await client.call(.put, "/api/v1/rosters/\(roster)/members", key: f.key, json: #"{"user_ids":["\#(ben)","\#(anna)"]}"#)
            }
            let policy = try await client.call(.post, "/api/v1/escalation-policies", key: f.key, json: #"""
                {"name":"Default","is_default":true,"severity_threshold":"critical","tiers":[
                  {"timeout_minutes":5,"targets":[{"type":"roster_primary","roster_id":"\#(roster)"}],"methods":["slack_dm","sms"]},
                  {"timeout_minutes":10,"targets":[{"type":"roster_secondary","roster_id":"\#(roster)"}],"methods":["phone","sms"]},
                  {"timeout_minutes":15,"targets":[{"type":"user","user_id":"\#(carl)"}],"methods":["phone"]}]}
                """#)
            guard policy.status == .created, let policyID = policy.json["id"]?.stringValue else {
                throw TestDatabase.SetupError("policy: \(policy.status) \(policy.text)")
            }
            let config = try await client.call(.put, "/api/v1/admin/config", key: f.key, json: #"""
                {"settings":{"public_base_url":"\#(publicURL)"},"secrets":{"twilio_auth_token":"\#(authToken)"}}
                """#)
            guard config.status == .ok else { throw TestDatabase.SetupError("config: \(config.text)") }
            let fired = try await client.call(.post, "/api/v1/webhooks/generic", key: f.key,
                                              json: #"{"title":"Payments API down","severity":"critical","fingerprint":"esc-\#(UUID())"}"#)
            guard let raw = fired.json["alerts"]?.arrayValue?.first?["alert_id"]?.stringValue, let id = UUID(uuidString: raw) else {
                throw TestDatabase.SetupError("alert: \(fired.text)")
            }
            let created = try await f.app.database.withTenant(f.tenant.slug) { connection -> Date in
                for try await at in try await connection.query("SELECT created_at FROM alerts WHERE id = \(id)", logger: TestDatabase.logger).decode(Date.self) {
                    return at
                }
                throw TestDatabase.SetupError("alert row missing")
            }
            return EscalationScenario(f: f, anna: anna, ben: ben, carl: carl, policy: policyID, alertID: id, firedAt: created)
        }
    }

    func engine(_ clock: DrivenClock, database: Database? = nil) -> EscalationEngine {
        EscalationEngine(database: database ?? f.app.database, tenantConfig: f.app.platform.tenantConfig, logger: TestDatabase.logger,
                         publicURL: Self.publicURL, now: { clock.now })
    }

    func dispatcher(_ clock: DrivenClock) -> NotificationDispatcher {
        NotificationDispatcher(database: f.app.database, logger: TestDatabase.logger, sender: RefusingSender(), now: { clock.now })
    }

    /// Slack in live mode against a local Slack at `apiBase`, and a dispatcher that sends through it.
    func liveSlack(apiBase: String, signingSecret: String = "unused-signing-secret", _ clock: DrivenClock) async throws -> NotificationDispatcher {
        try await f.app.test { client in
            let configured = try await client.call(.put, "/api/v1/admin/config", key: f.key, json: #"""
                {"settings":{"slack_mode":"live","slack_api_url":"\#(apiBase)"},
                 "secrets":{"slack_bot_token":"xoxb-test","slack_signing_secret":"\#(signingSecret)"}}
                """#)
            guard configured.status == .ok else { throw TestDatabase.SetupError("config: \(configured.text)") }
        }
        var sender = LiveNotificationSender(http: HTTPClient.shared, config: f.app.platform.tenantConfig, publicURL: nil, clock: .system)
        sender.timeout = .seconds(2)
        return NotificationDispatcher(database: f.app.database, logger: TestDatabase.logger, sender: sender, now: { clock.now })
    }

    /// (step, method, recipient) of every escalation step's outbox row, in order (not the updates of sent messages).
    func outbox() async throws -> [String] {
        try await f.app.database.withTenant(f.tenant.slug) { connection in
            var rows: [String] = []
            let query = try await connection.query("""
                SELECT step, method, recipient, status FROM notification_outbox WHERE alert_id = \(alertID) AND step IS NOT NULL
                ORDER BY step, method, recipient
                """, logger: TestDatabase.logger)
            for try await (step, method, recipient, status) in query.decode((Int, String, String, String).self) {
                rows.append("\(step) \(method) \(recipient) \(status)")
            }
            return rows
        }
    }

    /// A form post signed the way Twilio's helper libraries sign it.
    /// A form posted to a Slack endpoint (`interactions` or `commands`) of this tenant, signed as Slack signs it.
    func slackPost(_ client: any TestClientProtocol, _ endpoint: String, form: [(String, String)], secret: String,
                   at timestamp: Date = Date()) async throws -> TestResponse {
        try await slackPost(client, endpoint, body: FormEncoding.encode(form), contentType: "application/x-www-form-urlencoded", secret: secret, at: timestamp)
    }

    /// A request signed as Slack signs it (v0 over timestamp and body), with any further headers (Slack's retry headers).
    func slackPost(_ client: any TestClientProtocol, _ endpoint: String, body: String, contentType: String, secret: String,
                   at timestamp: Date = Date(), headers extra: HTTPFields = [:]) async throws -> TestResponse {
        let ts = String(Int(timestamp.timeIntervalSince1970))
        var headers: HTTPFields = [.contentType: contentType, .init("X-Slack-Request-Timestamp")!: ts,
                                   .init("X-Slack-Signature")!: SlackSignature.sign(body: body, timestamp: ts, secret: secret)]
        headers.append(contentsOf: extra)
        return try await client.execute(uri: "/api/v1/slack/\(endpoint)?tenant=\(f.tenant.slug.value)", method: .post, headers: headers,
                                        body: ByteBuffer(string: body))
    }

    func twilioPost(_ client: any TestClientProtocol, _ pathAndQuery: String, form: [(String, String)], token: String = authToken) async throws -> TestResponse {
        let signature = TwilioSignature.sign(url: Self.publicURL + pathAndQuery, form: form, authToken: token)
        return try await client.execute(uri: pathAndQuery, method: .post,
                                        headers: [.contentType: "application/x-www-form-urlencoded", .init("X-Twilio-Signature")!: signature],
                                        body: ByteBuffer(string: FormEncoding.encode(form)))
    }
}

/// Live delivery is not used by these tests: every provider is in sandbox mode.
struct RefusingSender: NotificationSender {
    func send(_ bundle: OutboundBundle, tenant: Tenant) async -> DeliveryOutcome { .permanent("no live delivery in this test") }
}

@Suite struct EscalationEngineTests {
    /// With one engine, and with two engines (separate pools) ticking at the same moments.
    @Test(arguments: [1, 2])
    func tierOneThenTierTwoThenAKeypressStopsTierThree(engines: Int) async throws {
        let s = try await EscalationScenario.make()
        let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
        let other = engines == 2 ? s.engine(clock, database: Database(client: try TestDatabase.makeClient(maximumConnections: 4), logger: TestDatabase.logger)) : nil
        let engine = TwinEngines(first: s.engine(clock), second: other)
        let tenant = s.f.tenant
        _ = try await engine.tick(tenant)
        _ = try await s.dispatcher(clock).drain(tenant)
        #expect(try await s.outbox() == ["0 slack_dm U0ANNA sandboxed", "0 sms +4915100000001 sandboxed"])

        clock.advance(to: s.firedAt.addingTimeInterval(4 * 60))
        _ = try await engine.tick(tenant)
        #expect(try await s.outbox().count == 2, "tier 2 waits for tier 1's timeout")

        clock.advance(to: s.firedAt.addingTimeInterval(5 * 60 + 1))
        _ = try await engine.tick(tenant)
        _ = try await s.dispatcher(clock).drain(tenant)
        #expect(try await s.outbox() == ["0 slack_dm U0ANNA sandboxed", "0 sms +4915100000001 sandboxed",
                                         "1 phone +4915100000002 sandboxed", "1 sms +4915100000002 sandboxed"])

        // Ben presses 1 on the call.
        let id = s.alertID.uuidString.lowercased()
        try await s.f.app.test { client in
            let path = "/api/v1/twilio/voice?tenant=\(tenant.slug.value)&alert_ids=\(id)"
            let forged = try await s.twilioPost(client, path, form: [("Digits", "1"), ("To", "+4915100000002")], token: "wrong")
            #expect(forged.status == .forbidden)
            let pressed = try await s.twilioPost(client, path, form: [("Digits", "1"), ("To", "+4915100000002"), ("CallSid", "CA123")])
            #expect(pressed.status == .ok && pressed.text.contains("<Say>Acknowledged"), "\(pressed.text)")
            let alert = try await client.call(.get, "/api/v1/alerts/\(id)", key: s.f.key)
            #expect(alert.json["status"]?.stringValue == "acknowledged")
            #expect(alert.json["acknowledged_by"]?.stringValue == "phone:+4915100000002")
        }

        clock.advance(to: s.firedAt.addingTimeInterval(60 * 60))
        _ = try await engine.tick(tenant)
        _ = try await s.dispatcher(clock).drain(tenant)
        #expect(try await s.outbox().count == 4, "tier 3 never fires")
        try await s.f.app.test { client in
            let events = try await client.call(.get, "/api/v1/escalation-policies/\(s.policy)/events/\(id)", key: s.f.key)
            let tiers = events.json["items"]?.arrayValue?.compactMap { $0["tier"]?.numberValue }
            #expect(tiers == [1, 1, 2, 2], "\(events.text)")
            #expect(events.json["items"]?.arrayValue?.allSatisfy { $0["outcome"]?.stringValue == "sandboxed" } == true)
            let sandbox = try await client.call(.get, "/api/v1/notifications?alert_id=\(id)", key: s.f.key)
            let sms = sandbox.json["items"]?.arrayValue?.first { $0["method"]?.stringValue == "sms" && $0["recipient"]?.stringValue == "+4915100000001" }
            #expect(sms?["payload"]?["sms"]?.stringValue?.contains("Reply ACK to acknowledge or ESC to escalate. Alert ID: \(id.prefix(8))") == true)
        }
    }

    @Test func aRosterAPolicyPagesCannotBeDeleted() async throws {
        let s = try await EscalationScenario.make()
        try await s.f.app.test { client in
            let rosters = try await client.call(.get, "/api/v1/rosters", key: s.f.key)
            let roster = try #require(rosters.json["items"]?.arrayValue?.first?["id"]?.stringValue)
            let refused = try await client.call(.delete, "/api/v1/rosters/\(roster)", key: s.f.key)
            #expect(refused.status == .conflict && refused.text.contains("Default"), "\(refused.text)")
            #expect(try await client.call(.delete, "/api/v1/escalation-policies/\(s.policy)", key: s.f.key).status == .noContent)
            #expect(try await client.call(.delete, "/api/v1/rosters/\(roster)", key: s.f.key).status == .noContent)
        }
    }

    @Test func dryRunMatchesWhatTheEngineDoes() async throws {
        let s = try await EscalationScenario.make()
        let dry = try await s.f.app.test { client in
            try await client.call(.post, "/api/v1/escalation-policies/\(s.policy)/dry-run", key: s.f.key,
                                  json: #"{"at":"\#(Timestamp.format(s.firedAt))","severity":"critical"}"#)
        }
        #expect(dry.status == .ok, "\(dry.text)")
        var planned: [String] = []
        var times: [Date] = []
        for step in dry.json["steps"]?.arrayValue ?? [] {
            let number = Int(step["step"]?.numberValue ?? -1)
            times.append(Timestamp.parse(step["at"]?.stringValue ?? "") ?? .distantPast)
            for n in step["notifications"]?.arrayValue ?? [] {
                planned.append("\(number) \(n["method"]?.stringValue ?? "") \(n["recipient"]?.stringValue ?? "") sandboxed")
            }
        }
        #expect(times.map { $0.timeIntervalSince(s.firedAt).rounded() } == [0, 300, 900])
        let clock = DrivenClock(s.firedAt)
        for time in times {
            clock.advance(to: time.addingTimeInterval(0.001)) // the dry-run's times are in milliseconds
            _ = try await s.engine(clock).tick(s.f.tenant)
            _ = try await s.dispatcher(clock).drain(s.f.tenant)
        }
        let done = try await s.outbox()
        #expect(done == planned.sorted(), "engine \(done) vs dry-run \(planned)")
        let severe = try await s.f.app.test { client in
            try await client.call(.post, "/api/v1/escalation-policies/\(s.policy)/dry-run", key: s.f.key, json: #"{"severity":"warning"}"#)
        }
        #expect(severe.json["escalates"]?.boolValue == false && severe.json["steps"]?.arrayValue?.isEmpty == true)
    }

    /// After a worker outage each tier still gets its full timeout: one tier per catch-up, not all of them at once.
    @Test func aLateWorkerPagesOneTierAtATime() async throws {
        let s = try await EscalationScenario.make()
        let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
        _ = try await s.engine(clock).tick(s.f.tenant)
        clock.advance(to: s.firedAt.addingTimeInterval(2 * 3_600))
        _ = try await s.engine(clock).tick(s.f.tenant)
        #expect(try await s.outbox().map { $0.split(separator: " ")[0] } == ["0", "0", "1", "1"], "tier 3 waits")
        clock.advance(to: s.firedAt.addingTimeInterval(2 * 3_600 + 10 * 60))
        _ = try await s.engine(clock).tick(s.f.tenant)
        #expect(try await s.outbox().count == 5)
        let due = try #require(try await s.engine(clock).nextDue(s.f.tenant))
        #expect(abs(due.timeIntervalSince(s.firedAt) - (2 * 3_600 + 10 * 60 + 15 * 60)) < 0.001,
                "after the last tier, the state is finished when its timeout ends")
    }

    /// Two engines on separate pools, ticking at the same time and one of them dying mid-tick: each (alert, tier,
    /// repeat) is queued once.
    @Test func twoEnginesQueueEachStepOnce() async throws {
        let s = try await EscalationScenario.make()
        let second = Database(client: try TestDatabase.makeClient(maximumConnections: 4), logger: TestDatabase.logger)
        do {
            let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
            let (a, b) = (s.engine(clock), s.engine(clock, database: second))

            // One engine dies after taking step 0 but before committing: nothing of its work remains.
            struct Killed: Error {}
            await #expect(throws: Killed.self) {
                try await second.withTenant(s.f.tenant.slug) { connection in
                    try await b.discover(at: clock.now, on: connection)
                    let settings = try await ProviderSettings.load(s.f.app.platform.tenantConfig, tenant: s.f.tenant)
                    #expect(try await b.step(at: clock.now, settings: settings, on: connection) == 1)
                    throw Killed()
                }
            }
            #expect(try await s.outbox().isEmpty)

            for minute in [0, 1, 5, 6, 15, 16, 40] {
                clock.advance(to: s.firedAt.addingTimeInterval(Double(minute * 60 + 1)))
                async let first = a.tick(s.f.tenant)
                async let other = b.tick(s.f.tenant)
                _ = try await (first, other)
            }
            let rows = try await s.outbox()
            #expect(rows.count == 5, "\(rows)")
            #expect(Set(rows.map { $0.split(separator: " ").prefix(3).joined(separator: " ") }).count == rows.count)
            let events = try await s.f.app.database.withTenant(s.f.tenant.slug) { connection -> Int in
                for try await n in try await connection.query("SELECT count(*) FROM escalation_events WHERE alert_id = \(s.alertID)",
                                                              logger: TestDatabase.logger).decode(Int.self) { return n }
                return -1
            }
            #expect(events == 5)
        }
    }
}

/// One engine, or two that tick concurrently, as two worker processes would.
struct TwinEngines: Sendable {
    let first: EscalationEngine
    let second: EscalationEngine?

    func tick(_ tenant: Tenant) async throws -> Int {
        guard let second else { return try await first.tick(tenant) }
        async let a = first.tick(tenant)
        async let b = second.tick(tenant)
        return try await a + b
    }
}
