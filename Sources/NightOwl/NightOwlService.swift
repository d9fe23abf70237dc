import Foundation
import Logging
import OwlCore
import PostgresNIO

/// NightOwl: alert ingestion, knowledge base, rosters and escalation.
public enum NightOwlService {
    public static var definition: ServiceDefinition {
        ServiceDefinition(
            name: "nightowl", displayName: "NightOwl", defaultPort: 8080,
            migrations: migrations,
            openAPIDocument: openAPIDocument,
            registerRoutes: { routes, platform in
                AlertRoutes(platform: platform).register(on: routes)
                IncidentRoutes(platform: platform).register(on: routes)
                RunbookRoutes(platform: platform).register(on: routes)
                ServiceRoutes(platform: platform).register(on: routes)
                HeartbeatRoutes(platform: platform).register(on: routes)
                RosterRoutes(platform: platform).register(on: routes)
                let oncall = OnCallRoutes(platform: platform)
                oncall.register(on: routes)
                CalendarRoutes(platform: platform, oncall: oncall).register(on: routes)
                EscalationRoutes(platform: platform).register(on: routes)
                TwilioRoutes(platform: platform).register(on: routes)
                SlackRoutes(platform: platform).register(on: routes)
                NightOwlConsole(platform: platform).register(on: routes)
            },
            seed: SampleServices.seed,
            seedDemo: DemoKnowledgeBase.seed,
            jobs: NightOwlWorker.jobs,
            homePath: "/"
        )
    }

    static var migrations: MigrationSet {
        var set = MigrationSet.load(component: "nightowl", root: Bundle.module.url(forResource: "Migrations", withExtension: nil))
        set.tenantSetup = RunbookTemplate.install
        return set
    }

    static var openAPIDocument: String {
        func part(_ name: String) -> String {
            guard let url = Bundle.module.url(forResource: "OpenAPI/\(name)", withExtension: "yaml") else { return "" }
            return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        }
        return OpenAPIDocument.compose(
            title: "NightOwl API",
            description: "Alert ingestion, knowledge base, on-call rosters and escalation.",
            paths: part("paths"), schemas: part("schemas"), tags: part("tags"), responses: part("responses"))
    }
}
