import OwlCore

/// TicketOwl: Ticket orchestration over Zammad: auto-tickets, SLA tracking and on-call assignment.
/// The platform routes (health, users, API keys, config, audit) are served now; the domain follows in its own issue.
public enum TicketOwlService {
    public static var definition: ServiceDefinition {
        .platformOnly(name: "ticketowl", displayName: "TicketOwl", defaultPort: 8082, summary: "Ticket orchestration over Zammad: auto-tickets, SLA tracking and on-call assignment.")
    }
}
