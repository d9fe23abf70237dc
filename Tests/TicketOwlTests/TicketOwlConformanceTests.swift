import Foundation
import OwlCore
import OwlTestSupport
import Testing
@testable import TicketOwl

@Suite struct TicketOwlConformanceTests {
    let definition = TicketOwlService.definition

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
        #expect(definition.openAPIDocument.contains("title: \"TicketOwl API\""))
    }

    @Test func everyListPagesThroughToTheEnd() async throws {
        let app = try await TestApp.make(definition: definition)
        let problems = try await Conformance.pagingViolations(app, fixtures: ListFixture.platform)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func seedIsIdempotentAndDemoRecreatesTheTenant() async throws {
        let summary = try await Conformance.seedSummary(definition)
        #expect(summary.tenant == "acme")
        #expect(summary.users == 4)
        #expect(summary.tenants == ["acme"])
    }
}
