import Foundation
import OwlCore

/// TicketOwl: Ticket orchestration over Zammad: auto-tickets, SLA tracking and on-call assignment.
/// The platform routes (health, users, API keys, config, audit) are served now; the domain follows in its own issue.
public enum TicketOwlService {
    public static var definition: ServiceDefinition {
        ServiceDefinition(
            name: "ticketowl", displayName: "TicketOwl", defaultPort: 8082,
            migrations: MigrationSet(global: [], tenant: []),
            openAPIDocument: OpenAPIDocument.compose(
                title: "TicketOwl API", description: "Ticket orchestration over Zammad: auto-tickets, SLA tracking and on-call assignment.", paths: "", schemas: ""),
            registerRoutes: { _, _ in }
        )
    }
}
