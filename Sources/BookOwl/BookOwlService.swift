import OwlCore

/// BookOwl: Knowledge: spaces, documents, templates, runbooks and post-mortems.
/// The platform routes (health, users, API keys, config, audit) are served now; the domain follows in its own issue.
public enum BookOwlService {
    public static var definition: ServiceDefinition {
        .platformOnly(name: "bookowl", displayName: "BookOwl", defaultPort: 8081, summary: "Knowledge: spaces, documents, templates, runbooks and post-mortems.")
    }
}
