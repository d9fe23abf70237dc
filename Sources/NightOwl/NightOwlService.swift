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
            registerRoutes: { _, _ in },
            seed: SampleServices.seed,
            seedDemo: SampleServices.seed
        )
    }

    static var migrations: MigrationSet {
        let root = Bundle.module.url(forResource: "Migrations", withExtension: nil)
        return MigrationSet(
            global: Migration.load(component: "nightowl", directory: root?.appendingPathComponent("global")),
            tenant: Migration.load(component: "nightowl", directory: root?.appendingPathComponent("tenant"))
        )
    }

    static var openAPIDocument: String {
        func part(_ name: String) -> String {
            guard let url = Bundle.module.url(forResource: "OpenAPI/\(name)", withExtension: "yaml") else { return "" }
            return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        }
        return OpenAPIDocument.compose(
            title: "NightOwl API",
            description: "Alert ingestion, knowledge base, on-call rosters and escalation.",
            paths: part("paths"), schemas: part("schemas"), tags: part("tags"))
    }
}
