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

@Suite struct DemoRosterTests {
    @Test func seedDemoBuildsTheThreeRostersWithAnOverride() async throws {
        let database = try await TestDatabase.isolatedDatabase()
        try await Seeder(definition: NightOwlService.definition, database: database).seedDemo()
        let app = try await TestApp.make(definition: NightOwlService.definition, database: database)
        try await app.test { client in
            let rosters = try await client.call(.get, "/api/v1/rosters", key: Seeder.devAPIKey)
            let names = rosters.json["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(names == ["Database Daily", "Global Primary", "Platform Weekly"])
            let global = rosters.json["items"]?.arrayValue?.first { $0["name"]?.stringValue == "Global Primary" }
            #expect(global?["sub_rosters"]?.arrayValue?.compactMap { $0["timezone"]?.stringValue }.sorted() == ["Europe/Berlin", "Pacific/Auckland"])
            let everyone = try await client.call(.get, "/api/v1/oncall", key: Seeder.devAPIKey)
            #expect(everyone.json["items"]?.arrayValue?.count == 3)
            #expect(everyone.json["items"]?.arrayValue?.allSatisfy { $0["primary"]?["display_name"]?.stringValue != nil } == true, "\(everyone.text)")
            let weekly = rosters.json["items"]?.arrayValue?.first { $0["name"]?.stringValue == "Platform Weekly" }?["id"]?.stringValue ?? ""
            let overrides = try await client.call(.get, "/api/v1/rosters/\(weekly)/overrides", key: Seeder.devAPIKey)
            #expect(overrides.json["items"]?.arrayValue?.count == 1)
            let covered = try await client.call(.get, "/api/v1/oncall/checkout-web", key: Seeder.devAPIKey)
            #expect(covered.json["roster_name"]?.stringValue == "Global Primary" && covered.json["user_name"]?.stringValue != nil)
            let policies = try await client.call(.get, "/api/v1/escalation-policies", key: Seeder.devAPIKey)
            let policy = policies.json["items"]?.arrayValue?.first
            #expect(policy?["is_default"]?.boolValue == true && policy?["tiers"]?.arrayValue?.count == 3)
            let dry = try await client.call(.post, "/api/v1/escalation-policies/\(policy?["id"]?.stringValue ?? "")/dry-run", key: Seeder.devAPIKey, json: "{}")
            #expect(dry.json["steps"]?.arrayValue?.count == 6, "three tiers, repeated once")
            #expect(dry.json["steps"]?.arrayValue?.first?["notifications"]?.arrayValue?.contains { $0["method"]?.stringValue == "sms" && $0["recipient"]?.stringValue?.hasPrefix("+") == true } == true, "\(dry.text)")
        }
    }
}
