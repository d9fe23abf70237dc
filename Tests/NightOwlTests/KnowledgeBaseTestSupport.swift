import Foundation
import HummingbirdTesting
import OwlCore
import OwlTestSupport
@testable import NightOwl

/// A NightOwl app and a fresh tenant with its admin key.
struct NightOwlFixture: Sendable {
    let app: TestApp
    let tenant: Tenant
    let key: String

    static func make() async throws -> NightOwlFixture {
        let definition = NightOwlService.definition
        let database = try await TestDatabase.database(for: definition)
        let app = try await TestApp.make(definition: definition, database: database)
        let (tenant, key) = try await TestDatabase.makeTenant(database, definition: definition)
        return NightOwlFixture(app: app, tenant: tenant, key: key)
    }
}

extension TestClientProtocol {
    /// Creates an incident and returns its id.
    func createIncident(_ key: String, _ json: String) async throws -> String {
        let response = try await call(.post, "/api/v1/incidents", key: key, json: json)
        guard response.status == .created, let id = response.json["id"]?.stringValue else {
            throw TestDatabase.SetupError("creating an incident failed: \(response.status) \(response.text)")
        }
        return id
    }
}
