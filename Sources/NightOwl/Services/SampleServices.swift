import Logging
import PostgresNIO

/// The sample services of the development tenant.
enum SampleServices {
    static let all: [(name: String, description: String, cluster: String, namespace: String)] = [
        ("payments-api", "Card payments and refunds", "prod-eu-1", "payments"),
        ("checkout-web", "Storefront checkout", "prod-eu-1", "checkout"),
        ("auth-service", "Login and token issuance", "prod-eu-1", "identity"),
        ("search-indexer", "Catalogue search indexing", "prod-us-1", "search"),
    ]

    @Sendable static func seed(_ connection: PostgresConnection, _ logger: Logger) async throws {
        for service in all {
            try await connection.query("""
                INSERT INTO services (name, description, cluster, namespace)
                VALUES (\(service.name), \(service.description), \(service.cluster), \(service.namespace))
                ON CONFLICT (name) DO NOTHING
                """, logger: logger)
        }
    }
}
