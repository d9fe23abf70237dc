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

    @Test func everyListPagesThroughToTheEnd() async throws {
        let app = try await TestApp.make(definition: definition)
        let problems = try await Conformance.pagingViolations(app, fixtures: NightOwlListFixtures.all)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func seedIsIdempotentAndDemoRecreatesTheTenant() async throws {
        let summary = try await Conformance.seedSummary(definition)
        #expect(summary.tenant == "acme")
        #expect(summary.users == 4)
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

/// How each of NightOwl's lists gets rows for the paging check: through its own API, or (the outbox) the engine.
enum NightOwlListFixtures {
    static let all: [String: ListFixture] = ListFixture.platform.merging([
        "/api/v1/alerts": ListFixture.posting("/api/v1/webhooks/generic") { index in
            #"{"title":"Paging check \#(index)","severity":"warning","fingerprint":"paging-\#(index)-\#(UUID())"}"#
        },
        "/api/v1/incidents": ListFixture.posting("/api/v1/incidents") { index in
            #"{"title":"Known problem \#(index)","severity":"major","solution":"Do thing \#(index)"}"#
        },
        // Equal ranks: the order must still be total, or offsets skip and repeat rows.
        "/api/v1/incidents/search": ListFixture.posting("/api/v1/incidents", query: "q=pagination") { index in
            #"{"title":"Pagination trouble","severity":"major","symptoms":"pagination stalls","solution":"Fix \#(index)"}"#
        },
        "/api/v1/runbooks": ListFixture.posting("/api/v1/runbooks") { index in
            #"{"title":"Runbook \#(index)","content":"1. Look at it"}"#
        },
        "/api/v1/services": ListFixture.posting("/api/v1/services") { index in #"{"name":"svc-\#(index)"}"# },
        "/api/v1/heartbeats": ListFixture.posting("/api/v1/heartbeats") { index in
            #"{"name":"Watchdog \#(index)","interval_seconds":300}"#
        },
        "/api/v1/rosters": ListFixture { context, count in
            let member = try await context.client.createUser(context.key, "Roster Member")
            try await ListFixture.posting("/api/v1/rosters") { index in
                #"{"name":"Roster \#(index)-\#(UUID())","timezone":"UTC","rotation_type":"weekly","handoff_time":"09:00","start_date":"2026-01-05","members":["\#(member)"]}"#
            }.add(context, count)
        },
        "/api/v1/escalation-policies": ListFixture.posting("/api/v1/escalation-policies") { index in
            ##"{"name":"Policy \##(index)","tiers":[{"timeout_minutes":5,"targets":[{"type":"channel","channel":"#ops"}],"methods":["slack_channel"]}]}"##
        },
        "/api/v1/notifications": notifications,
    ]) { core, _ in core }

    /// Critical alerts under a default policy that pages one person by SMS: the engine queues one message per alert.
    static let notifications = ListFixture { context, count in
        let policies = try await context.client.call(.get, "/api/v1/escalation-policies", key: context.key)
        if policies.json["items"]?.arrayValue?.isEmpty != false {
            let person = try await context.client.createUser(context.key, "Paged Person", phone: "+4915100000009")
            let policy = try await context.client.call(.post, "/api/v1/escalation-policies", key: context.key, json: #"""
                {"name":"Page","is_default":true,"tiers":[{"timeout_minutes":60,"targets":[{"type":"user","user_id":"\#(person)"}],"methods":["sms"]}]}
                """#)
            guard policy.status == .created else { throw TestDatabase.SetupError("policy: \(policy.text)") }
        }
        try await ListFixture.posting("/api/v1/webhooks/generic") { index in
            #"{"title":"Outbox paging \#(index)","severity":"critical","fingerprint":"outbox-\#(index)-\#(UUID())"}"#
        }.add(context, count)
        let engine = EscalationEngine(database: context.app.database, tenantConfig: context.app.platform.tenantConfig, logger: TestDatabase.logger,
                                      now: { Date() })
        _ = try await engine.tick(context.tenant)
    }
}
