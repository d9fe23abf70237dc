import Foundation
import Hummingbird
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing

@Suite struct TenantIsolationTests {
    /// 1,000 interleaved requests from two tenants through a pool of two connections: neither ever sees the other's rows,
    /// and no connection keeps a tenant's search_path after its request.
    @Test func interleavedRequestsNeverCrossTenants() async throws {
        _ = try await TestDatabase.database()
        let database = Database(client: try TestDatabase.makeClient(maximumConnections: 2), logger: TestDatabase.logger)
        let app = try await TestApp.make(database: database)
        let (a, keyA) = try await TestDatabase.makeTenant(database, name: "Tenant A")
        let (b, keyB) = try await TestDatabase.makeTenant(database, name: "Tenant B")
        for (tenant, marker) in [(a, "alpha"), (b, "bravo")] {
            try await database.withTenant(tenant.slug) { connection in
                for i in 0..<5 {
                    try await connection.query("INSERT INTO users (email, display_name, role) VALUES (\("\(marker)\(i)@\(marker).example"), \(marker), 'engineer')", logger: TestDatabase.logger)
                }
            }
        }
        let leaks = try await app.test { client in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<1000 {
                    let (key, own, other) = i % 2 == 0 ? (keyA, "alpha", "bravo") : (keyB, "bravo", "alpha")
                    group.addTask {
                        let response = try await client.call(.get, "/api/v1/users?limit=200", key: key)
                        guard response.status == .ok else { return 1 }
                        let text = response.text
                        let items = response.json["items"]?.arrayValue ?? []
                        return (items.count == 5 && text.contains(own) && !text.contains(other)) ? 0 : 1
                    }
                    if i % 16 == 15 { _ = try await group.next() }
                }
                return try await group.reduce(0, +)
            }
        }
        #expect(leaks == 0)
        // Both pooled connections are back on the default path.
        for _ in 0..<4 {
            let path = try await database.client.withConnection { connection in
                let rows = try await connection.query("SHOW search_path", logger: TestDatabase.logger)
                for try await value in rows.decode(String.self) { return value }
                return ""
            }
            #expect(!path.contains("tenant_"))
        }
    }

    @Test func aKeyOfOneTenantCannotReachAnotherTenantsRecords() async throws {
        let app = try await TestApp.make()
        let (_, keyA) = try await TestDatabase.makeTenant(app.database)
        let (_, keyB) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            let created = try await client.call(.post, "/api/v1/users", key: keyA, json: #"{"email":"x@a.example","display_name":"X","role":"engineer"}"#)
            #expect(created.status == .created)
            let id = try #require(created.json["id"]?.stringValue)
            #expect(try await client.call(.get, "/api/v1/users/\(id)", key: keyB).status == .notFound)
            #expect(try await client.call(.delete, "/api/v1/users/\(id)", key: keyB).status == .notFound)
            let keyID = try #require(try await client.call(.get, "/api/v1/api-keys", key: keyA).json["items"]?.arrayValue?.first?["id"]?.stringValue)
            #expect(try await client.call(.delete, "/api/v1/api-keys/\(keyID)", key: keyB).status == .notFound)
        }
    }
}
