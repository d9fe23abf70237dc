import Foundation
import HTTPTypes
import OwlCore
import OwlTestSupport
import Testing

@Suite struct HTTPConventionTests {
    @Test func requestIDIsKeptOrMade() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let given = try await client.call(.get, "/healthz", headers: [.init("X-Request-ID")!: "abc-123"])
            #expect(given.headers[.init("X-Request-ID")!] == "abc-123")
            let made = try await client.call(.get, "/healthz")
            #expect(UUID(uuidString: made.headers[.init("X-Request-ID")!] ?? "") != nil)
            let hostile = try await client.call(.get, "/nope", headers: [.init("X-Request-ID")!: String(repeating: "x", count: 500)])
            #expect(hostile.headers[.init("X-Request-ID")!]?.count == 36)
        }
    }

    @Test func unknownRoutesAndBadIDsAreJSON() async throws {
        let app = try await TestApp.make()
        let (_, admin) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            let missing = try await client.call(.get, "/api/v1/nothing-here", key: admin)
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "not_found")
            #expect(missing.headers[.contentType]?.hasPrefix("application/json") == true)
            let badID = try await client.call(.get, "/api/v1/users/not-a-uuid", key: admin)
            #expect(badID.status == .badRequest)
            #expect(badID.errorCode == "invalid_id")
            let unknownUser = try await client.call(.get, "/api/v1/users/\(UUID())", key: admin)
            #expect(unknownUser.status == .notFound)
            let badLimit = try await client.call(.get, "/api/v1/users?limit=100000", key: admin)
            #expect(badLimit.status == .unprocessableContent)
            let badOffset = try await client.call(.get, "/api/v1/users?offset=-1", key: admin)
            #expect(badOffset.status == .unprocessableContent)
        }
    }

    @Test func aKnownPathWithAnotherMethodIs405WithAllow() async throws {
        let app = try await TestApp.make()
        let (_, admin) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            let trace = try await client.call(.trace, "/api/v1/ping", key: admin)
            #expect(trace.status == .methodNotAllowed)
            #expect(trace.errorCode == "method_not_allowed")
            #expect(trace.headers[.allow] == "GET, HEAD")
            let delete = try await client.call(.delete, "/api/v1/users", key: admin)
            #expect(delete.status == .methodNotAllowed)
            #expect(delete.headers[.allow] == "POST, GET, HEAD")
            // A parameter path: the methods registered for that template.
            let post = try await client.call(.post, "/api/v1/users/\(UUID())", key: admin)
            #expect(post.headers[.allow] == "GET, PUT, DELETE, HEAD")
            #expect(try await client.call(.trace, "/api/v1/nothing-here", key: admin).status == .notFound)
        }
    }

    @Test func nulCharactersAreRefusedNotStored() async throws {
        let app = try await TestApp.make()
        let (tenant, admin) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            let inQuery = try await client.call(.get, "/api/v1/users?email=a%00b", key: admin)
            #expect(inQuery.status == .badRequest)
            #expect(inQuery.errorCode == "invalid_url")
            let inPath = try await client.call(.get, "/api/v1/users/%00", key: admin)
            #expect(inPath.status == .badRequest)
            let body = #"{"email":"nul@example.com","display_name":"a\u0000b","role":"engineer"}"#
            let inBody = try await client.call(.post, "/api/v1/users", key: admin, json: body)
            #expect(inBody.status == .unprocessableContent)
            // An escaped backslash before u0000 is text, not a NUL.
            let literal = #"{"email":"lit@example.com","display_name":"a\\u0000b","role":"engineer"}"#
            let stored = try await client.call(.post, "/api/v1/users", key: admin, json: literal)
            #expect(stored.status == .created)
            #expect(stored.json["display_name"]?.stringValue == #"a\u0000b"#)
        }
        let count = try await app.database.scalar("SELECT count(*) FROM users", in: tenant.slug, as: Int.self) ?? -1
        #expect(count == 1)
    }

    @Test func emptyTypedQueryValuesAre422() async throws {
        let app = try await TestApp.make()
        let (_, admin) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            for uri in ["/api/v1/audit-log?until=", "/api/v1/audit-log?cursor=", "/api/v1/users?limit=", "/api/v1/audit-log?since="] {
                let response = try await client.call(.get, uri, key: admin)
                #expect(response.status == .unprocessableContent, "\(uri)")
            }
            let page = try await client.call(.get, "/api/v1/audit-log", key: admin)
            #expect(page.status == .ok)
            #expect(page.json["next_cursor"] == .null, "present and null on the last page")
            #expect(page.text.contains(#""next_cursor":null"#))
        }
    }

    @Test func oversizedBodiesAre413() async throws {
        let app = try await TestApp.make { $0.bodyLimitBytes = 4096 }
        let (tenant, admin) = try await TestDatabase.makeTenant(app.database)
        let big = #"{"email":"big@example.com","display_name":"\#(String(repeating: "x", count: 5000))","role":"engineer"}"#
        try await app.test { client in
            let response = try await client.call(.post, "/api/v1/users", key: admin, json: big)
            #expect(response.status == .contentTooLarge)
            #expect(response.errorCode == "payload_too_large")
        }
        // Also when the length is not declared up front (chunked): the body reader stops at the limit.
        try await app.live { client in
            let response = try await client.call(.post, "/api/v1/users", key: admin, json: big, headers: [.transferEncoding: "chunked"])
            #expect(response.status == .contentTooLarge)
        }
        let count = try await app.database.scalar("SELECT count(*) FROM users", in: tenant.slug, as: Int.self) ?? -1
        #expect(count == 0)
    }

    @Test func metricsUseRouteTemplates() async throws {
        let app = try await TestApp.make()
        let (_, admin) = try await TestDatabase.makeTenant(app.database)
        let id = UUID().uuidString
        try await app.test { client in
            _ = try await client.call(.get, "/api/v1/users/\(id)", key: admin)
            _ = try await client.call(.get, "/api/v1/ping", key: admin)
            let metrics = try await client.call(.get, "/metrics")
            #expect(metrics.status == .ok)
            let text = metrics.text
            #expect(text.contains(#"owltest_api_request_duration_seconds_bucket{method="GET",path="/api/v1/users/{id}",status="404""#))
            #expect(text.contains(#"path="/api/v1/ping",status="200""#))
            #expect(!text.contains(id), "raw ids never become labels")
        }
    }

    @Test func corsOnlyForConfiguredOrigins() async throws {
        let app = try await TestApp.make { $0.corsOrigins = ["https://owl.example.com"] }
        try await app.test { client in
            let preflight = try await client.call(.options, "/api/v1/users", headers: [.origin: "https://owl.example.com", .accessControlRequestMethod: "POST"])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://owl.example.com")
            let simple = try await client.call(.get, "/healthz", headers: [.origin: "https://owl.example.com"])
            #expect(simple.headers[.accessControlAllowOrigin] == "https://owl.example.com")
            let other = try await client.call(.get, "/healthz", headers: [.origin: "https://evil.example.com"])
            #expect(other.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func healthReadinessStatusAndPing() async throws {
        let app = try await TestApp.make()
        let (tenant, admin) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            #expect(try await client.call(.get, "/healthz").status == .ok)
            // Other suites share the pool; readiness may need a moment while they hold every connection.
            var ready = try await client.call(.get, "/readyz")
            for _ in 0..<10 where ready.status != .ok {
                try await Task.sleep(for: .milliseconds(200))
                ready = try await client.call(.get, "/readyz")
            }
            #expect(ready.status == .ok)
            #expect(ready.json["database"]?.stringValue == "up")
            // The same holds for the status page's database ping (2 s), which reports no latency when it times out.
            var status = try await client.call(.get, "/api/v1/status", key: admin)
            for _ in 0..<10 where status.json["database_latency_ms"]?.numberValue == nil {
                try await Task.sleep(for: .milliseconds(200))
                status = try await client.call(.get, "/api/v1/status", key: admin)
            }
            #expect(status.json["version"]?.stringValue == OwlVersion.current)
            #expect(status.json["database_latency_ms"]?.numberValue != nil)
            let ping = try await client.call(.get, "/api/v1/ping", key: admin)
            #expect(ping.json["tenant"]?.stringValue == tenant.slug.value)
            #expect(ping.json["role"]?.stringValue == "admin")
        }
    }

    @Test func devHeaderOnlyInDevMode() async throws {
        let production = try await TestApp.make()
        let (tenant, _) = try await TestDatabase.makeTenant(production.database)
        try await production.test { client in
            let response = try await client.call(.get, "/api/v1/ping", headers: [.init("X-Tenant-Slug")!: tenant.slug.value])
            #expect(response.status == .unauthorized)
        }
        let dev = try await TestApp.make { $0.devMode = true }
        try await dev.test { client in
            let ping = try await client.call(.get, "/api/v1/ping", headers: [.init("X-Tenant-Slug")!: tenant.slug.value])
            #expect(ping.json["role"]?.stringValue == "admin")
            #expect(ping.json["auth_method"]?.stringValue == "dev_header")
            #expect(try await client.call(.get, "/api/v1/ping", headers: [.init("X-Tenant-Slug")!: "no_such_tenant"]).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/ping", headers: [.init("X-Tenant-Slug")!: "DROP TABLE"]).status == .unauthorized)
        }
    }
}

@Suite struct PlatformConformanceTests {
    @Test func everyRouteEnforcesItsRole() async throws {
        let app = try await TestApp.make()
        let violations = try await Conformance.rbacViolations(app)
        #expect(violations.isEmpty, "\(violations)")
        #expect(app.routes.count >= 17)
    }

    @Test func openAPIDocumentListsExactlyTheRoutes() async throws {
        let app = try await TestApp.make()
        let document = PlatformOnlyService.definition.openAPIDocument
        let (undocumented, unrouted) = Conformance.openAPIMismatch(app, document: document)
        #expect(undocumented.isEmpty, "routes missing from the document: \(undocumented.sorted())")
        #expect(unrouted.isEmpty, "documented but not routed: \(unrouted.sorted())")
        try await app.test { client in
            let served = try await client.call(.get, "/api/docs/openapi.yaml")
            #expect(served.text.hasPrefix("openapi: 3.1.0"))
            let page = try await client.call(.get, "/api/docs")
            #expect(page.text.contains("/api/v1/users/{id}"))
        }
    }
}
