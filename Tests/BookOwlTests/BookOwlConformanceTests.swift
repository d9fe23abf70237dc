import Foundation
import OwlCore
import OwlTestSupport
import Testing
@testable import BookOwl

@Suite struct BookOwlConformanceTests {
    let definition = BookOwlService.definition

    @Test func everyRouteEnforcesItsRole() async throws {
        let app = try await TestApp.make(definition: definition)
        let violations = try await Conformance.rbacViolations(app)
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test func openAPIDocumentListsExactlyTheRoutes() async throws {
        let app = try await TestApp.make(definition: definition)
        let (undocumented, unrouted) = Conformance.openAPIMismatch(app, document: definition.openAPIDocument)
        #expect(undocumented.isEmpty, "routes missing from the document: \(undocumented.sorted())")
        #expect(unrouted.isEmpty, "documented but not routed: \(unrouted.sorted())")
        #expect(definition.openAPIDocument.contains("title: \"BookOwl API\""))
    }

    @Test func seedIsIdempotent() async throws {
        let database = try await TestDatabase.isolatedDatabase()
        try await Seeder(definition: definition, database: database).seed()
        try await Seeder(definition: definition, database: database).seed()
        let app = try await TestApp.make(definition: definition, database: database)
        try await app.test { client in
            let ping = try await client.call(.get, "/api/v1/ping", key: Seeder.devAPIKey)
            #expect(ping.json["tenant"]?.stringValue == "acme")
            let users = try await client.call(.get, "/api/v1/users", key: Seeder.devAPIKey)
            #expect(users.json["total"]?.numberValue == 2)
        }
        try await Seeder(definition: definition, database: database).seedDemo()
        let tenants = try await TenantStore(database: database).list()
        #expect(tenants.map(\.slug.value) == ["acme"])
    }
}
