import ArgumentParser
import Foundation
import OwlCore

/// A service's command group: `owl <service> [--mode …]` and `owl <service> tenant …`.
protocol ServiceCommand {
    static var definition: ServiceDefinition { get }
}

enum Mode: String, ExpressibleByArgument, CaseIterable {
    case api, worker, seed, seedDemo = "seed-demo", migrate
}

/// `owl <service> --mode api|worker|seed|seed-demo|migrate` (or `<SERVICE>_MODE`).
struct Run<Service: ServiceCommand>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "run", abstract: "Run the service in a mode (the default subcommand).")
    }

    @Option(help: "api, worker, seed, seed-demo or migrate. Default: $<SERVICE>_MODE, else api.")
    var mode: Mode?

    func run() async throws {
        let definition = Service.definition
        let variable = "\(definition.environmentPrefix)_MODE"
        var chosen = mode ?? .api
        if mode == nil, let raw = ProcessInfo.processInfo.environment[variable], !raw.isEmpty {
            guard let parsed = Mode(rawValue: raw) else {
                ServiceRunner.fail(ConfigError(variable: variable, problem: "'\(raw)' is not one of api, worker, seed, seed-demo, migrate"))
            }
            chosen = parsed
        }
        let runner = ServiceRunner(definition: definition, config: ServiceRunner.loadConfig(definition))
        try await runner.run(chosen)
    }
}

/// `owl <service> tenant create|list`.
struct TenantCommand<Service: ServiceCommand>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "tenant", abstract: "Manage tenants.",
                             subcommands: [TenantCreate<Service>.self, TenantList<Service>.self])
    }
}

struct TenantCreate<Service: ServiceCommand>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "create", abstract: "Create a tenant and print its first admin API key (once).")
    }
    @Option(help: "Slug: ^[a-z][a-z0-9_]{0,40}$") var slug: String
    @Option(help: "Display name.") var name: String

    func run() async throws {
        guard let valid = TenantSlug(slug) else {
            throw ValidationError("--slug '\(slug)' must match ^[a-z][a-z0-9_]{0,40}$")
        }
        let runner = ServiceRunner(definition: Service.definition, config: ServiceRunner.loadConfig(Service.definition))
        let result = try await runner.createTenant(slug: valid, name: name)
        if let key = result.adminKey {
            print("created tenant \(result.tenant.slug) (\(result.tenant.name))")
            print("admin API key (shown once): \(key)")
        } else {
            print("tenant \(result.tenant.slug) already exists; its schema is migrated")
        }
    }
}

struct TenantList<Service: ServiceCommand>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "list", abstract: "List tenants.")
    }

    func run() async throws {
        let runner = ServiceRunner(definition: Service.definition, config: ServiceRunner.loadConfig(Service.definition))
        for tenant in try await runner.listTenants() {
            print("\(tenant.slug.value)\t\(tenant.name)\t\(Timestamp.format(tenant.createdAt))")
        }
    }
}

/// `owl <service> user set-password`: for the first admin of a team without an identity provider, or a reset by an
/// operator. The password is read from standard input, never from the command line (which other users can see).
struct UserCommand<Service: ServiceCommand>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "user", abstract: "Manage users' sign-in.", subcommands: [UserSetPassword<Service>.self])
    }
}

struct UserSetPassword<Service: ServiceCommand>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "set-password",
                             abstract: "Set a user's password, read from standard input (one line), and end their sessions.")
    }
    @Option(help: "The tenant's slug.") var tenant: String
    @Option(help: "The user's email.") var email: String

    func run() async throws {
        guard let slug = TenantSlug(tenant) else { throw ValidationError("--tenant '\(tenant)' is not a tenant slug") }
        guard let password = readLine(strippingNewline: true) else { throw ValidationError("no password on standard input") }
        if let problem = PasswordRules.problem(with: password) { throw ValidationError("the password \(problem)") }
        let runner = ServiceRunner(definition: Service.definition, config: ServiceRunner.loadConfig(Service.definition))
        let done = try await runner.withDatabase { database in
            try await LocalAccounts(database: database).setPassword(password, email: email, tenant: slug, at: WallClock.system.now)
        }
        guard done else { throw ValidationError("tenant \(tenant) has no user with the email \(email)") }
        print("password set for \(email) in \(tenant); their sessions have ended")
    }
}
