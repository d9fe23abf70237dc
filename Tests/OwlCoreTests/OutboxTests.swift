import AsyncHTTPClient
import Foundation
import NIOHTTP1
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing

@Suite struct RetryRuleTests {
    /// (attempt, Retry-After, jitter unit, delay): exponential from 10 s, capped at 600 s, up to a fifth taken off;
    /// a provider's Retry-After is kept as given.
    @Test(arguments: [
        (1, nil, 0.0, 10.0), (2, nil, 0.0, 20), (3, nil, 0.0, 40), (7, nil, 0.0, 600), (12, nil, 0.0, 600),
        (1, nil, 0.5, 9), (3, nil, 0.999_999, 32.000_008), (2, 30, 0.9, 30), (2, 0, 0.5, 1), (2, 99_999, 0, 3_600), (2, .nan, 0, 20), (2, .infinity, 0, 20),
    ] as [(Int, Double?, Double, Double)])
    func delays(attempt: Int, retryAfter: Double?, unit: Double, expected: Double) {
        let policy = RetryPolicy(base: 10, cap: 600, maxAttempts: 5, jitter: 0.2)
        #expect(abs(policy.delay(afterAttempt: attempt, retryAfter: retryAfter, unit: unit) - expected) < 0.001)
        #expect(policy.givesUp(afterAttempt: 5) && !policy.givesUp(afterAttempt: 4))
    }

    /// (status, Retry-After, outcome): 2xx delivered, 429 and 5xx retried, other 4xx final.
    @Test(arguments: [
        (200, nil, "ok"), (204, nil, "ok"), (500, nil, "retry nil"), (503, "7", "retry 7"), (429, "Sun, 06 Nov 1994 08:49:47 GMT", "retry 13"),
        (429, "soon", "retry nil"), (503, "nan", "retry nil"), (503, "-inf", "retry nil"), (400, nil, "final"), (404, nil, "final"), (409, "5", "final"), (301, nil, "final"),
    ] as [(Int, String?, String)])
    func classifies(code: Int, retryAfter: String?, expected: String) {
        let now = Date(timeIntervalSince1970: 784_111_787 - 13)   // 13 s before the date above
        let outcome = HTTPDelivery.classify(HTTPResponseStatus(statusCode: code), retryAfter: retryAfter, body: "x", now: now)
        let text = switch outcome {
        case nil: "ok"
        case .retryable(_, let after)?: "retry \(after.map { String(Int($0)) } ?? "nil")"
        case .permanent?: "final"
        case .delivered?: "delivered"
        }
        #expect(text == expected)
    }
}

@Suite struct OutboxTests {
    struct Setup {
        let app: TestApp
        let tenant: Tenant
        let key: String
        let clock: DrivenClock
        var deliverer: OutboxDeliverer
    }

    static func setup(secrets: String = #"{"webhook_signing_secret":"whsec-1","zammad_token":"ztok"}"#) async throws -> Setup {
        let clock = DrivenClock(Date(timeIntervalSince1970: 1_800_000_000))
        let app = try await TestApp.make(clock: clock.wallClock)
        let (tenant, key) = try await TestDatabase.makeTenant(app.database)
        let response = try await app.test { try await $0.call(.put, "/api/v1/admin/config", key: key, json: #"{"secrets":\#(secrets)}"#) }
        #expect(response.status == .ok, "\(response.text)")
        var deliverer = OutboxDeliverer(database: app.database, tenantConfig: app.platform.tenantConfig, http: .shared, clock: clock.wallClock,
                                        logger: TestDatabase.logger, policy: RetryPolicy(base: 10, cap: 600, maxAttempts: 3, jitter: 0.2))
        deliverer.timeout = .seconds(1)
        deliverer.random = { 0 }
        return Setup(app: app, tenant: tenant, key: key, clock: clock, deliverer: deliverer)
    }

    @discardableResult
    static func enqueue(_ s: Setup, _ message: OutboundMessage, mode: ProviderMode = .live) async throws -> UUID? {
        try await s.app.database.withTenant(s.tenant.slug) { try await OutboxStore(logger: TestDatabase.logger).enqueue(message, mode: mode, at: s.clock.now, on: $0) }
    }

    static func statuses(_ s: Setup) async throws -> [String] {
        try await s.app.database.withTenant(s.tenant.slug) { connection in
            var result: [String] = []
            for try await status in try await connection.query("SELECT status FROM outbox ORDER BY seq", logger: TestDatabase.logger).decode(String.self) {
                result.append(status)
            }
            return result
        }
    }

    @Test func deliversSignedAndAuthenticatedCallsOnceAndRecordsSandboxedOnes() async throws {
        let s = try await Self.setup()
        let server = ScriptedServer()
        try await server.run { base in
            let event = OutboundMessage.json(provider: "bookowl", key: "incident.created:1", url: base + "/events",
                                             body: .object(["event": "incident.created"]), auth: .owlSignature(secret: "webhook_signing_secret"))
            #expect(try await Self.enqueue(s, event) != nil)
            #expect(try await Self.enqueue(s, event) == nil)   // the same key again: not queued twice
            try await Self.enqueue(s, OutboundMessage.json(provider: "zammad", key: "ticket:1", method: .PUT, url: base + "/api/v1/tickets/1",
                                                           body: .object(["state": "closed"]), auth: .header(name: "Authorization", secret: "zammad_token", prefix: "Token token=")))
            try await Self.enqueue(s, OutboundMessage.json(provider: "zammad", key: "ticket:2", url: base + "/api/v1/tickets", body: .object([:])), mode: .sandbox)
            #expect(try await s.deliverer.drain(s.tenant) == 3)
            #expect(try await s.deliverer.drain(s.tenant) == 0)

            let seen = server.seen
            #expect(seen.map { "\($0.method) \($0.path)" }.sorted() == ["POST /events", "PUT /api/v1/tickets/1"])
            let signed = try #require(seen.first { $0.path == "/events" })
            let timestamp = try #require(signed.headers["x-owl-timestamp"])
            #expect(timestamp == "1800000000")
            #expect(OwlSignature.isValid(body: signed.body, timestamp: timestamp, signature: signed.headers["x-owl-signature"] ?? "",
                                         secret: "whsec-1", now: s.clock.now))
            #expect(signed.headers["idempotency-key"] == "incident.created:1" && signed.headers["content-type"] == "application/json")
            #expect(seen.first { $0.method == "PUT" }?.headers["authorization"] == "Token token=ztok")
            #expect(try await Self.statuses(s) == ["sent", "sent", "sandboxed"])
        }
    }

    @Test func retriesServerErrorsWithBackoffAndGivesUpVisibly() async throws {
        let s = try await Self.setup()
        let server = ScriptedServer()
        server.script(.status(503, body: "busy"), .status(429, body: "slow", headers: ["Retry-After": "30"]), .status(500, body: "down"))
        try await server.run { base in
            let id = try #require(try await Self.enqueue(s, OutboundMessage.json(provider: "bookowl", key: "e1", url: base + "/e", body: .object([:]))))
            #expect(try await s.deliverer.drain(s.tenant) == 1)           // 503: again in 10 s
            s.clock.advance(by: 9)
            #expect(try await s.deliverer.drain(s.tenant) == 0)
            s.clock.advance(by: 1)
            #expect(try await s.deliverer.drain(s.tenant) == 1)           // 429: again when the provider said, 30 s
            s.clock.advance(by: 29)
            #expect(try await s.deliverer.drain(s.tenant) == 0)
            s.clock.advance(by: 1)
            #expect(try await s.deliverer.drain(s.tenant) == 1)           // 500 on the third attempt: given up
            s.clock.advance(by: 3_600)
            #expect(try await s.deliverer.drain(s.tenant) == 0)
            #expect(server.seen.count == 3)

            try await s.app.test { client in
                let failed = try await client.call(.get, "/api/v1/outbox?status=failed", key: s.key)
                #expect(failed.status == .ok)
                let item = try #require(failed.json["items"]?.arrayValue?.first)
                #expect(item["id"]?.stringValue == id.uuidString.lowercased() && item["attempts"]?.intValue == 3)
                #expect(item["last_error"]?.stringValue?.contains("gave up after 3 attempts") == true, "\(item)")
                let detail = try await client.call(.get, "/api/v1/outbox/\(id.uuidString.lowercased())", key: s.key)
                #expect(detail.json["attempts"]?.arrayValue?.map { $0["status_code"]?.intValue } == [503, 429, 500])
                #expect(detail.json["attempts"]?.arrayValue?.map { $0["outcome"]?.stringValue } == ["retryable", "retryable", "failed"])

                // An admin sends it again; the next attempt succeeds.
                let retried = try await client.call(.post, "/api/v1/outbox/\(id.uuidString.lowercased())/retry", key: s.key)
                #expect(retried.status == .ok && retried.json["status"]?.stringValue == "pending", "\(retried.text)")
                #expect(try await s.deliverer.drain(s.tenant) == 1)
                let again = try await client.call(.post, "/api/v1/outbox/\(id.uuidString.lowercased())/retry", key: s.key)
                #expect(again.status == .conflict)
                #expect(try await client.call(.post, "/api/v1/outbox/\(UUID().uuidString)/retry", key: s.key).status == .notFound)
                #expect(try await client.call(.get, "/api/v1/outbox?status=lost", key: s.key).status == .unprocessableContent)
            }
            #expect(try await Self.statuses(s) == ["sent"])
        }
    }

    @Test func clientErrorsAndMissingSecretsAreFinalAndNetworkErrorsRetry() async throws {
        let s = try await Self.setup(secrets: "{}")
        let server = ScriptedServer()
        server.script(.status(422, body: #"{"error":"bad"}"#))
        try await server.run { base in
            try await Self.enqueue(s, OutboundMessage.json(provider: "x", key: "a", url: base + "/a", body: .object([:])))
            try await Self.enqueue(s, OutboundMessage.json(provider: "x", key: "b", url: base + "/b", body: .object([:]),
                                                           auth: .owlSignature(secret: "webhook_signing_secret")))
            try await Self.enqueue(s, OutboundMessage.json(provider: "x", key: "c", url: "http://127.0.0.1:9/refused", body: .object([:])))
            #expect(try await s.deliverer.drain(s.tenant) == 3)
            #expect(server.seen.map(\.path) == ["/a"])   // nothing was sent without its credentials
        }
        #expect(try await Self.statuses(s) == ["failed", "failed", "pending"])
    }

    @Test func messagesOfOneOrderingKeyGoOutInOrderEvenWhenTheFirstIsRetried() async throws {
        let s = try await Self.setup()
        let server = ScriptedServer()
        server.script(.status(502))
        try await server.run { base in
            for (index, key) in ["incident-1", "incident-1", "incident-2"].enumerated() {
                try await Self.enqueue(s, OutboundMessage.json(provider: "ticketowl", key: "m\(index)", url: base + "/m\(index)",
                                                               body: .object([:]), orderingKey: key))
            }
            #expect(try await s.deliverer.drain(s.tenant) == 2)            // m0 fails, m1 waits behind it, m2 goes
            #expect(Set(server.seen.map(\.path)) == ["/m0", "/m2"])
            s.clock.advance(by: 10)
            #expect(try await s.deliverer.drain(s.tenant) == 2)            // m0 again, then m1
            #expect(server.seen.map(\.path).suffix(2) == ["/m0", "/m1"])
        }
    }

    @Test func aLeaseThatRunsOutIsClaimedAgainAndTwoDeliverersNeverSendTwice() async throws {
        let s = try await Self.setup()
        let server = ScriptedServer()
        try await server.run { base in
            for index in 0..<30 {
                try await Self.enqueue(s, OutboundMessage.json(provider: "x", key: "k\(index)", url: base + "/k\(index)", body: .object([:])))
            }
            async let one = s.deliverer.drain(s.tenant)
            async let two = s.deliverer.drain(s.tenant)
            #expect(try await one + two == 30)
            #expect(Set(server.seen.map(\.path)).count == 30 && server.seen.count == 30)

            // A worker that died after claiming: the message stays leased until the lease runs out, then goes again.
            try await Self.enqueue(s, OutboundMessage.json(provider: "x", key: "late", url: base + "/late", body: .object([:])))
            try await s.app.database.withTenant(s.tenant.slug) { connection in
                try await connection.query("UPDATE outbox SET status = 'sending', lease_until = \(s.clock.now.addingTimeInterval(120)) WHERE idempotency_key = 'late'",
                                           logger: TestDatabase.logger)
            }
            #expect(try await s.deliverer.drain(s.tenant) == 0)
            s.clock.advance(by: 121)
            #expect(try await s.deliverer.drain(s.tenant) == 1)
        }
    }

    @Test func aMessageQueuedInARolledBackTransactionIsNeverSent() async throws {
        let s = try await Self.setup()
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await s.app.database.withTenant(s.tenant.slug) { connection in
                try await OutboxStore(logger: TestDatabase.logger).enqueue(
                    OutboundMessage(provider: "x", key: "gone", url: "http://127.0.0.1:9/"), mode: .live, at: s.clock.now, on: connection)
                throw Abort()
            }
        }
        #expect(try await Self.statuses(s).isEmpty)
    }
}
