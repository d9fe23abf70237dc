import Foundation
import OwlCore
import OwlTestSupport
import Testing
@testable import BookOwl

@Suite struct BookOwlWorkerTests {
    /// A BookOwl job in a few lines: every hour, tell NightOwl that a tenant's runbooks changed, through the outbox.
    @Test func aJobQueuesAnOutboundMessageThatTheWorkerDelivers() async throws {
        let seen = try await TestWorker.onePass(BookOwlService.definition) { environment, nightowl in
            [.periodic("runbook_sync", every: .seconds(3_600)) { tenant, now in
                try await environment.database.withTenant(tenant.slug) { connection in
                    let event = OutboundMessage.json(provider: "nightowl", key: "runbooks.changed:\(Int(now.timeIntervalSince1970))",
                                                     url: nightowl + "/api/v1/events", body: ["event": "runbooks.changed"])
                    try await OutboxStore(logger: environment.logger).enqueue(event, mode: .live, at: now, on: connection)
                }
            }]
        }
        #expect(seen.map(\.path) == ["/api/v1/events"])
        #expect(JSONValue.parse(seen.first?.body ?? "")?.objectValue?["event"]?.stringValue == "runbooks.changed")
    }
}
