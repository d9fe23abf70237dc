import Foundation
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

@Suite struct NightOwlConformanceTests {
    let definition = NightOwlService.definition

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
        #expect(definition.openAPIDocument.contains("title: \"NightOwl API\""))
    }

    @Test func seedIsIdempotentAndDemoRecreatesTheTenant() async throws {
        let summary = try await Conformance.seedSummary(definition)
        #expect(summary.tenant == "acme")
        #expect(summary.users == 2)
        #expect(summary.tenants == ["acme"])
    }
}

@Suite struct NightOwlSeedTests {
    @Test func seedAddsSampleServices() async throws {
        let database = try await TestDatabase.isolatedDatabase()
        try await Seeder(definition: NightOwlService.definition, database: database).seed()
        let names = try await database.withTenant(Seeder.devTenant) { connection in
            var names: [String] = []
            let rows = try await connection.query("SELECT name FROM services ORDER BY name", logger: TestDatabase.logger)
            for try await name in rows.decode(String.self) { names.append(name) }
            return names
        }
        #expect(names == SampleServices.all.map(\.name).sorted())
    }
}
