import Foundation
import OwlCore

/// BookOwl: Knowledge: spaces, documents, templates, runbooks and post-mortems.
/// The platform routes (health, users, API keys, config, audit) are served now; the domain follows in its own issue.
public enum BookOwlService {
    public static var definition: ServiceDefinition {
        ServiceDefinition(
            name: "bookowl", displayName: "BookOwl", defaultPort: 8081,
            migrations: MigrationSet(global: [], tenant: []),
            openAPIDocument: OpenAPIDocument.compose(
                title: "BookOwl API", description: "Knowledge: spaces, documents, templates, runbooks and post-mortems.", paths: "", schemas: ""),
            registerRoutes: { _, _ in }
        )
    }
}
