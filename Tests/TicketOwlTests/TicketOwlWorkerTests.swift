import Foundation
import OwlCore
import OwlTestSupport
import Testing
@testable import TicketOwl

@Suite struct TicketOwlWorkerTests {
    /// A TicketOwl job in a few lines: an SLA poller that adds a note to a Zammad ticket, through the outbox.
    @Test func aJobQueuesAZammadCallThatTheWorkerDelivers() async throws {
        let seen = try await TestWorker.onePass(TicketOwlService.definition) { environment, zammad in
            [.periodic("sla_poll", every: .seconds(60)) { tenant, now in
                try await environment.database.withTenant(tenant.slug) { connection in
                    let note = OutboundMessage.json(provider: "zammad", key: "sla-warning:31001", method: .PUT, url: zammad + "/api/v1/tickets/31001",
                                                    body: ["article": ["body": "SLA breach in 15 minutes", "internal": true]], orderingKey: "ticket:31001")
                    try await OutboxStore(logger: environment.logger).enqueue(note, mode: .live, at: now, on: connection)
                }
            }]
        }
        #expect(seen.map { "\($0.method) \($0.path)" } == ["PUT /api/v1/tickets/31001"])
    }
}
