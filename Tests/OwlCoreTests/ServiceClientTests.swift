import AsyncHTTPClient
import Foundation
import OwlCore
import OwlTestSupport
import Testing

@Suite struct CircuitBreakerTests {
    /// Steps of (seconds since start, what happens, state after it): five failures in a row open the circuit for 30 s;
    /// then one trial goes; its failure opens it again, its success closes it. A success in between resets the count.
    static let steps: [(Double, String, CircuitBreaker.State)] = [
        (0, "fail", .closed), (1, "fail", .closed), (2, "fail", .closed), (3, "fail", .closed),
        (4, "ok", .closed),                                          // the count starts again
        (5, "fail", .closed), (6, "fail", .closed), (7, "fail", .closed), (8, "fail", .closed),
        (9, "fail", .open),                                          // the fifth in a row
        (20, "refused", .open), (38.9, "refused", .open),
        (39, "trial-fail", .open),                                   // 30 s later: one trial, which fails
        (50, "refused", .open),
        (69, "trial-ok", .closed),                                   // 30 s after that: the trial works
        (70, "ok", .closed),
    ]

    @Test func opensAfterFiveFailuresAndClosesAfterASuccessfulTrial() {
        let breaker = CircuitBreaker(threshold: 5, openFor: 30)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for (seconds, event, expected) in Self.steps {
            let now = start.addingTimeInterval(seconds)
            switch event {
            case "refused": #expect(!breaker.allow(at: now), "at \(seconds)")
            case "fail", "trial-fail":
                #expect(breaker.allow(at: now), "at \(seconds)")
                if event == "trial-fail" { #expect(!breaker.allow(at: now), "only one trial at a time") }
                breaker.recordFailure(at: now)
            default:
                #expect(breaker.allow(at: now), "at \(seconds)")
                breaker.recordSuccess()
            }
            #expect(breaker.state(at: now) == expected, "after \(event) at \(seconds)")
        }
    }
}

@Suite struct OwlServiceClientTests {
    static func setup(_ base: String?, key: String? = "bo_key_1") async throws -> (TestApp, Tenant, DrivenClock) {
        let clock = DrivenClock(Date(timeIntervalSince1970: 1_800_000_000))
        let app = try await TestApp.make(clock: clock.wallClock)
        let (tenant, admin) = try await TestDatabase.makeTenant(app.database)
        let settings = base.map { #""bookowl_api_url":"\#($0)""# } ?? ""
        let secrets = key.map { #""bookowl_api_key":"\#($0)""# } ?? ""
        let response = try await app.test {
            try await $0.call(.put, "/api/v1/admin/config", key: admin, json: #"{"settings":{\#(settings)},"secrets":{\#(secrets)}}"#)
        }
        #expect(response.status == .ok, "\(response.text)")
        return (app, tenant, clock)
    }

    /// A timeout well above what a loaded test machine needs for a local answer, unless a test is about timeouts.
    static func client(_ app: TestApp, timeout: Duration = .seconds(10)) -> OwlServiceClient {
        var client = app.platform.service(.bookowl)
        client.timeout = timeout
        client.retryPause = .milliseconds(1)
        return client
    }

    @Test func sendsTheTenantsKeyAndRetriesOnlyIdempotentCalls() async throws {
        let server = ScriptedServer()
        try await server.run { base in
            let (app, tenant, _) = try await Self.setup(base + "/")
            let client = Self.client(app, timeout: .seconds(3))
            server.script(.status(200, body: #"{"items":[]}"#))
            let answer = try await client.get("/api/v1/documents?q=disk", tenant: tenant)
            #expect(answer.json?.objectValue?["items"] == .array([]))
            #expect(server.seen.last?.headers["x-api-key"] == "bo_key_1" && server.seen.last?.path == "/api/v1/documents")

            // A GET that meets a 503 and a timeout is tried again and gets its answer on the third try.
            server.script(.status(503), .slow(.seconds(10)), .status(200, body: "{}"))
            #expect(try await client.get("/api/v1/spaces", tenant: tenant).status == 200)
            #expect(server.seen.count == 4)

            // A POST is not repeated: the service may have acted on it.
            server.script(.status(502))
            await #expect(throws: ServiceCallError.serverError(502)) {
                try await client.call(.POST, "/api/v1/documents", tenant: tenant, body: ["title": "x"])
            }
            #expect(server.seen.count == 5 && server.seen.last?.body == #"{"title":"x"}"#)

            // A refusal is final and says why.
            server.script(.status(422, body: #"{"error":{"code":"validation"}}"#))
            await #expect(throws: ServiceCallError.refused(422, #"{"error":{"code":"validation"}}"#)) {
                try await client.call(.PUT, "/api/v1/documents/1", tenant: tenant, body: [:])
            }
            #expect(server.seen.count == 6)
            let metrics = app.platform.metrics.render()
            #expect(metrics.contains(#"owl_service_client_requests_total{target="bookowl",outcome="success"} 2"#), "\(metrics)")
            #expect(metrics.contains(#"owl_service_client_requests_total{target="bookowl",outcome="server_error"} 1"#))
            #expect(metrics.contains(#"owl_service_client_requests_total{target="bookowl",outcome="client_error"} 1"#))
            #expect(metrics.contains("owl_service_client_request_duration_seconds_bucket"))
        }
    }

    @Test func theCircuitOpensForThirtySecondsAfterFiveFailures() async throws {
        let server = ScriptedServer()
        try await server.run { base in
            let (app, tenant, clock) = try await Self.setup(base)
            let client = Self.client(app)
            server.script(.status(500), .status(500), .status(500), .status(500), .status(500))
            await #expect(throws: ServiceCallError.serverError(500)) { try await client.get("/a", tenant: tenant) }   // three tries
            await #expect(throws: ServiceCallError.serverError(500)) { try await client.get("/a", tenant: tenant) }   // two, then open
            #expect(server.seen.count == 5)
            await #expect(throws: ServiceCallError.circuitOpen) { try await client.get("/a", tenant: tenant) }
            #expect(server.seen.count == 5)                                   // not called while open
            clock.advance(by: 30)
            #expect(try await client.get("/a", tenant: tenant).status == 200)  // the trial call closes it
            #expect(try await client.get("/a", tenant: tenant).status == 200)
            #expect(app.platform.metrics.render().contains(#"owl_service_client_requests_total{target="bookowl",outcome="circuit_open"} 1"#))
        }
    }

    @Test func aServiceThatIsNotConfiguredOrDownIsAnErrorNotACrash() async throws {
        let (app, tenant, _) = try await Self.setup(nil)
        await #expect(throws: ServiceCallError.notConfigured("bookowl_api_url")) { try await Self.client(app).get("/a", tenant: tenant) }
        let (other, otherTenant, _) = try await Self.setup("http://127.0.0.1:9", key: "k")
        await #expect {
            // Nothing listens there: the pool tries to connect until the call's deadline, then reports the refusal.
            try await Self.client(other, timeout: .seconds(1)).get("/a", tenant: otherTenant)
        } throws: { error in
            if case .unreachable? = error as? ServiceCallError { true } else { false }
        }
    }
}
