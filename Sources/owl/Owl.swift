import ArgumentParser
import BookOwl
import NightOwl
import OwlCore
import TicketOwl

@main
struct Owl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "owl",
        abstract: "Owl: incident response and on-call (NightOwl), knowledge (BookOwl) and tickets (TicketOwl).",
        subcommands: [NightOwlCommand.self, BookOwlCommand.self, TicketOwlCommand.self, DevCommand.self, DevPostgresCommand.self, BenchCommand.self]
    )
}

struct NightOwlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nightowl", abstract: "Alerts, knowledge base, rosters and escalation.",
        subcommands: [Run<Self>.self, TenantCommand<Self>.self, UserCommand<Self>.self], defaultSubcommand: Run<Self>.self)
}
extension NightOwlCommand: ServiceCommand {
    static var definition: ServiceDefinition { NightOwlService.definition }
}

struct BookOwlCommand: AsyncParsableCommand, ServiceCommand {
    static let configuration = CommandConfiguration(
        commandName: "bookowl", abstract: "Knowledge spaces, documents, runbooks and post-mortems.",
        subcommands: [Run<Self>.self, TenantCommand<Self>.self, UserCommand<Self>.self], defaultSubcommand: Run<Self>.self)
    static var definition: ServiceDefinition { BookOwlService.definition }
}

struct TicketOwlCommand: AsyncParsableCommand, ServiceCommand {
    static let configuration = CommandConfiguration(
        commandName: "ticketowl", abstract: "Ticket orchestration over Zammad.",
        subcommands: [Run<Self>.self, TenantCommand<Self>.self, UserCommand<Self>.self], defaultSubcommand: Run<Self>.self)
    static var definition: ServiceDefinition { TicketOwlService.definition }
}
