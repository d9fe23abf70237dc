import Foundation
import Logging
import OwlCore
import OwlTestSupport
import ServiceLifecycle
import Testing

@Suite struct AuditTests {
    @Test func mutationsAreAuditedAndFilterable() async throws {
        let app = try await TestApp.make()
        let (_, admin) = try await TestDatabase.makeTenant(app.database)
        try await app.test { client in
            let user = try await client.call(.post, "/api/v1/users", key: admin, json: #"{"email":"d@example.com","display_name":"D","role":"engineer"}"#,
                                             headers: [.init("X-Request-ID")!: "req-audit-1"])
            let id = try #require(user.json["id"]?.stringValue)
            _ = try await client.call(.put, "/api/v1/users/\(id)", key: admin, json: #"{"role":"manager"}"#)
            _ = try await client.call(.put, "/api/v1/admin/config", key: admin, json: #"{"secrets":{"slack_bot_token":"xoxb-1"}}"#)
            _ = try await client.call(.post, "/api/v1/api-keys", key: admin, json: #"{"role":"readonly"}"#)
        }
        await app.platform.audit.flush()
        try await app.test { client in
            let all = try await client.call(.get, "/api/v1/audit-log", key: admin)
            let actions = all.json["items"]?.arrayValue?.compactMap { $0["action"]?.stringValue } ?? []
            #expect(actions == ["api_key.create", "config.update", "user.update", "user.create"])
            #expect(!all.text.contains("xoxb-1"), "secret values never reach the audit log")

            let update = try await client.call(.get, "/api/v1/audit-log?action=user.update", key: admin)
            let entry = try #require(update.json["items"]?.arrayValue?.first)
            #expect(entry["diff"]?["role"]?["old"]?.stringValue == "engineer")
            #expect(entry["diff"]?["role"]?["new"]?.stringValue == "manager")
            #expect(entry["actor"]?.stringValue?.hasPrefix("api_key:ow_") == true)

            let created = try await client.call(.get, "/api/v1/audit-log?resource=user&action=user.create", key: admin)
            #expect(created.json["items"]?.arrayValue?.first?["request_id"]?.stringValue == "req-audit-1")

            let future = try await client.call(.get, "/api/v1/audit-log?since=2999-01-01T00:00:00Z", key: admin)
            #expect(future.json["items"]?.arrayValue?.isEmpty == true)
            let badTime = try await client.call(.get, "/api/v1/audit-log?since=yesterday", key: admin)
            #expect(badTime.status == .unprocessableContent)
            let badRange = try await client.call(.get, "/api/v1/audit-log?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", key: admin)
            #expect(badRange.status == .unprocessableContent)
        }
    }

    @Test func cursorPagesAreStableWhileEntriesArrive() async throws {
        let app = try await TestApp.make()
        let (tenant, admin) = try await TestDatabase.makeTenant(app.database)
        @Sendable func entry(_ n: Int) -> AuditEntry {
            AuditEntry(actor: "tester", actorType: "api_key", action: "test.\(n)", resource: "thing", resourceID: "\(n)", diff: nil,
                       requestID: nil, ipAddress: nil, createdAt: Date(timeIntervalSince1970: 1_800_000_000 + Double(n) * 0.001))
        }
        let audit = app.platform.audit
        for n in 0..<25 { await audit.record(entry(n), tenant: tenant.slug) }
        await audit.flush()
        try await app.test { client in
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.call(.get, "/api/v1/audit-log?limit=10" + (cursor.map { "&cursor=\($0)" } ?? ""), key: admin)
                seen += page.json["items"]?.arrayValue?.compactMap { $0["action"]?.stringValue } ?? []
                cursor = page.json["next_cursor"]?.stringValue
                if seen.count == 10 {
                    // New entries arrive between pages: they are newer, so they do not shift the pages being read.
                    for n in 100..<105 { await audit.record(entry(n), tenant: tenant.slug) }
                    await audit.flush()
                }
            } while cursor != nil
            #expect(seen == (0..<25).reversed().map { "test.\($0)" })
            #expect(try await client.call(.get, "/api/v1/audit-log?cursor=garbage", key: admin).status == .unprocessableContent)
        }
    }

    /// A clean stop loses no entry: the writer flushes when the service group shuts down.
    @Test func gracefulShutdownFlushes() async throws {
        let database = try await TestDatabase.database()
        let (tenant, _) = try await TestDatabase.makeTenant(database)
        let writer = AuditWriter(database: database, logger: TestDatabase.logger, interval: .seconds(3600))
        let group = ServiceGroup(configuration: .init(services: [writer], logger: TestDatabase.logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for n in 0..<500 {
                await writer.record(AuditEntry(actor: "t", actorType: "api_key", action: "bulk.\(n)", resource: "thing", resourceID: nil,
                                               diff: .object(["n": .number(Double(n))]), requestID: nil, ipAddress: nil, createdAt: Date()), tenant: tenant.slug)
            }
            #expect(await writer.pendingCount == 500)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let count = try await database.scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'bulk.%'", in: tenant.slug, as: Int.self) ?? 0
        #expect(count == 500)
    }
}
