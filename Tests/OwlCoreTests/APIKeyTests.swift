import Foundation
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing

@Suite struct APIKeyTests {
    @Test func lifecycle() async throws {
        let app = try await TestApp.make()
        let (tenant, admin) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            let created = try await client.call(.post, "/api/v1/api-keys", key: admin, json: #"{"role":"engineer","description":"grafana"}"#)
            #expect(created.status == .created)
            let raw = try #require(created.json["key"]?.stringValue)
            let id = try #require(created.json["id"]?.stringValue)
            #expect(raw.hasPrefix("ow_"))
            #expect(created.json["key_prefix"]?.stringValue == String(raw.prefix(11)))

            // The key works in X-API-Key and as a bearer token.
            let ping = try await client.call(.get, "/api/v1/ping", key: raw)
            #expect(ping.json["role"]?.stringValue == "engineer")
            #expect(ping.json["tenant"]?.stringValue == tenant.slug.value)
            let bearer = try await client.call(.get, "/api/v1/ping", headers: [.authorization: "Bearer \(raw)"])
            #expect(bearer.status == .ok)

            // Lists never show the key again.
            let list = try await client.call(.get, "/api/v1/api-keys", key: admin)
            #expect(!list.text.contains(raw))
            #expect(list.text.contains(String(raw.prefix(11))))
            #expect(list.json["items"]?.arrayValue?.count == 2)

            let revoked = try await client.call(.delete, "/api/v1/api-keys/\(id)", key: admin)
            #expect(revoked.status == .ok)
            #expect(revoked.json["revoked_at"]?.stringValue != nil)
            let after = try await client.call(.get, "/api/v1/ping", key: raw)
            #expect(after.status == .unauthorized)
            #expect(after.errorCode == "unauthorized")
        }
        // Only the hash is stored.
        let stored = try await app.database.client.query("SELECT key_hash FROM public.api_keys WHERE tenant_id = \(tenant.id)", logger: TestDatabase.logger)
        for try await hash in stored.decode(String.self) { #expect(hash.count == 64 && !hash.hasPrefix("ow_")) }
    }

    @Test func expiredAndUnknownKeysAreRefused() async throws {
        let app = try await TestApp.make()
        let (tenant, admin) = try await TestDatabase.makeTenant(app.database)
        let issued = try await APIKeyStore(database: app.database).create(tenantID: tenant.id, role: .admin, scopes: [], description: "", expiresAt: Date().addingTimeInterval(3600))
        try await app.database.client.query("UPDATE public.api_keys SET expires_at = now() - interval '1 second' WHERE id = \(issued.key.id)", logger: TestDatabase.logger)
        try await app.test { client in
            #expect(try await client.call(.get, "/api/v1/ping", key: issued.rawKey).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/ping", key: "ow_" + String(repeating: "0", count: 48)).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/ping", key: "garbage").status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/ping", key: admin).status == .ok)
            let past = try await client.call(.post, "/api/v1/api-keys", key: admin, json: #"{"role":"admin","expires_at":"2001-01-01T00:00:00Z"}"#)
            #expect(past.status == .unprocessableContent)
        }
    }

    @Test func lastUsedIsRecorded() async throws {
        let app = try await TestApp.make()
        let (tenant, admin) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            for _ in 0..<3 { _ = try await client.call(.get, "/api/v1/ping", key: admin) }
        }
        var lastUsed: Date?
        for _ in 0..<50 where lastUsed == nil {
            let rows = try await app.database.client.query("SELECT last_used_at FROM public.api_keys WHERE tenant_id = \(tenant.id)", logger: TestDatabase.logger)
            for try await value in rows.decode(Date?.self) { lastUsed = value }
            if lastUsed == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let recorded = try #require(lastUsed)
        #expect(abs(recorded.timeIntervalSinceNow) < 60)
    }

    @Test func webhookScopedKeysOnlyIngest() async throws {
        let app = try await TestApp.make()
        let (_, admin) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            let created = try await client.call(.post, "/api/v1/api-keys", key: admin, json: #"{"role":"admin","scopes":["webhook"]}"#)
            let raw = try #require(created.json["key"]?.stringValue)
            #expect(created.json["scopes"] == .array([.string("webhook")]))
            let users = try await client.call(.get, "/api/v1/users", key: raw)
            #expect(users.status == .forbidden)
            let unknownScope = try await client.call(.post, "/api/v1/api-keys", key: admin, json: #"{"role":"admin","scopes":["everything"]}"#)
            #expect(unknownScope.status == .unprocessableContent)
        }
    }
}
