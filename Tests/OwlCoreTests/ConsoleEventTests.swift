import Foundation
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing

@Suite struct ConsoleEventTests {
    static func record(_ database: Database, _ tenant: TenantSlug, _ ids: [UUID]) async throws {
        try await database.withTenant(tenant) { connection -> Void in
            _ = try await connection.query("SELECT console_event('alert', \(ids)::uuid[], 'changed')", logger: TestDatabase.logger)
        }
    }

    /// A change committed in one tenant reaches that tenant's streams through LISTEN/NOTIFY, and no other tenant's; what
    /// was missed is read back by id (the `Last-Event-ID` of a reconnecting browser).
    @Test func changesReachTheirTenantsStreamsAndCanBeReadBack() async throws {
        let database = try await TestDatabase.database()
        let (tenant, _) = try await TestDatabase.makeTenant(database)
        let (other, _) = try await TestDatabase.makeTenant(database)
        let hub = ConsoleEventHub(database: database, logger: TestDatabase.logger)
        let running = Task { try await hub.run() }
        defer { running.cancel() }
        var stream: AsyncStream<ConsoleEvent>?
        for _ in 0..<50 where stream == nil {
            stream = try await hub.subscribe(tenant.slug)
            if stream == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let live = try #require(stream)
        let otherStream = try #require(try await hub.subscribe(other.slug))
        #expect(await hub.streams == 2)
        try await Task.sleep(for: .milliseconds(300))   // the listener is up

        let ids = [UUID(), UUID()]
        try await Self.record(database, tenant.slug, ids)
        let received = try await withThrowingTaskGroup(of: [ConsoleEvent].self) { group in
            group.addTask {
                var events: [ConsoleEvent] = []
                for await event in live {
                    events.append(event)
                    if events.count == 2 { break }
                }
                return events
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return []
            }
            let first = try await group.next() ?? []
            group.cancelAll()
            return first
        }
        #expect(received.map(\.subjectID) == ids)
        #expect(received.allSatisfy { $0.topic == "alert" && $0.kind == "changed" })
        #expect(received[1].id == received[0].id + 1)

        let missed = try await ConsoleEventHub.events(database, tenant.slug, after: received[0].id, limit: 10)
        #expect(missed.map(\.subjectID) == [ids[1]])
        #expect(try await ConsoleEventHub.events(database, other.slug, after: 0, limit: 10).isEmpty)
        _ = otherStream
    }

    @Test func withoutTheListenerNoStreamIsOpened() async throws {
        let database = try await TestDatabase.database()
        let (tenant, _) = try await TestDatabase.makeTenant(database)
        let hub = ConsoleEventHub(database: database, logger: TestDatabase.logger)
        #expect(try await hub.subscribe(tenant.slug) == nil)
    }
}
