import Foundation
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import Testing
@testable import NightOwl

/// Bad input to escalation, service and notification routes is a 4xx JSON error naming the problem, and nothing is stored.
@Suite struct EscalationInputTests {
    static let tier = #"{"timeout_minutes":5,"targets":[{"type":"user","user_id":"$U"}],"methods":["sms"]}"#

    @Test(arguments: [
        (#"{"tiers":[TIER]}"#, 422, "name"),
        (#"{"name":"P"}"#, 422, "tiers"),
        (#"{"name":"P","tiers":[]}"#, 422, "tiers"),
        (#"{"name":"P","tiers":[{"timeout_minutes":0,"targets":[{"type":"user","user_id":"$U"}],"methods":["sms"]}]}"#, 422, "timeout_minutes"),
        (#"{"name":"P","tiers":[{"timeout_minutes":5,"targets":[{"type":"user","user_id":"$U"}],"methods":["pigeon"]}]}"#, 422, "pigeon"),
        (#"{"name":"P","tiers":[{"timeout_minutes":5,"targets":[{"type":"team","id":"x"}],"methods":["sms"]}]}"#, 422, "team"),
        (#"{"name":"P","tiers":[{"timeout_minutes":5,"targets":[{"type":"channel","channel":"ops"}],"methods":["sms"]}]}"#, 422, "person target"),
        (#"{"name":"P","tiers":[{"timeout_minutes":5,"targets":[{"type":"user","user_id":"$U"}],"methods":["webhook"]}]}"#, 422, "webhook target"),
        (#"{"name":"P","tiers":[{"timeout_minutes":5,"targets":[{"type":"webhook","url":"ftp://x"}],"methods":["webhook"]}]}"#, 422, "http(s) url"),
        (#"{"name":"P","tiers":[{"timeout_minutes":5,"targets":[{"type":"roster_primary","roster_id":"6c1e0a4e-0000-4000-8000-000000000000"}],"methods":["sms"]}]}"#, 422, "does not exist"),
        (#"{"name":"P","tiers":[{"timeout_minutes":5,"targets":[{"type":"user","user_id":"6c1e0a4e-0000-4000-8000-000000000000"}],"methods":["sms"]}]}"#, 422, "not active users"),
        (#"{"name":"P","repeat_count":11,"tiers":[TIER]}"#, 422, "repeat_count"),
        (#"{"name":"P","severity_threshold":"urgent","tiers":[TIER]}"#, 422, "urgent"),
    ])
    func badPoliciesAreRefused(body: String, status: Int, mentions: String) async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let user = try await client.createUser(f.key, "Pat", phone: "+4915100000007")
            let json = body.replacingOccurrences(of: "TIER", with: Self.tier).replacingOccurrences(of: "$U", with: user)
            let response = try await client.call(.post, "/api/v1/escalation-policies", key: f.key, json: json)
            #expect(Int(response.status.code) == status, "\(response.text)")
            #expect(response.errorCode != nil && response.text.contains(mentions), "\(response.text)")
            #expect(try await client.call(.get, "/api/v1/escalation-policies", key: f.key).json["total"]?.numberValue == 0)
        }
    }

    @Test func badQueriesAndReferences() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let user = try await client.createUser(f.key, "Pat", phone: "+4915100000007")
            let policy = try await client.call(.post, "/api/v1/escalation-policies", key: f.key,
                                               json: #"{"name":"P","tiers":[\#(Self.tier.replacingOccurrences(of: "$U", with: user))]}"#)
            #expect(policy.status == .created)
            let id = policy.json["id"]?.stringValue ?? ""
            #expect(try await client.call(.post, "/api/v1/escalation-policies", key: f.key,
                                          json: #"{"name":"p","tiers":[\#(Self.tier.replacingOccurrences(of: "$U", with: user))]}"#).status == .conflict)
            #expect(try await client.call(.post, "/api/v1/escalation-policies/\(id)/dry-run", key: f.key, json: #"{"at":"tomorrow"}"#).status.code / 100 == 4)
            #expect(try await client.call(.post, "/api/v1/escalation-policies/\(id)/dry-run", key: f.key, json: #"{"severity":"huge"}"#).status.code / 100 == 4)
            #expect(try await client.call(.post, "/api/v1/escalation-policies/\(UUID())/dry-run", key: f.key, json: "{}").status == .notFound)
            #expect(try await client.call(.get, "/api/v1/escalation-policies/nope", key: f.key).status == .badRequest)
            #expect(try await client.call(.get, "/api/v1/escalation-policies/\(id)/events/not-a-uuid", key: f.key).status == .badRequest)
            #expect(try await client.call(.get, "/api/v1/notifications?status=lost", key: f.key).status == .unprocessableContent)
            #expect(try await client.call(.get, "/api/v1/notifications?alert_id=x", key: f.key).status == .unprocessableContent)
            #expect(try await client.call(.get, "/api/v1/notifications?cursor=%%%", key: f.key).status == .unprocessableContent)
            let badService = try await client.call(.post, "/api/v1/services", key: f.key, json: #"{"name":"api","escalation_policy_id":"\#(UUID())"}"#)
            #expect(badService.status == .unprocessableContent && badService.text.contains("escalation_policy_id"))
            #expect(try await client.call(.post, "/api/v1/services", key: f.key, json: #"{"name":"has space"}"#).status == .unprocessableContent)
            #expect(try await client.call(.post, "/api/v1/services", key: f.key, json: #"{"name":"api","roster_id":"\#(UUID())"}"#).status == .unprocessableContent)
            let service = try await client.call(.post, "/api/v1/services", key: f.key, json: #"{"name":"api","escalation_policy_id":"\#(id)"}"#)
            #expect(service.status == .created && service.json["escalation_policy_id"]?.stringValue?.lowercased() == id.lowercased())
            #expect(try await client.call(.post, "/api/v1/services", key: f.key, json: #"{"name":"API"}"#).status == .conflict)
            // Deleting the policy leaves the service to the default policy.
            #expect(try await client.call(.delete, "/api/v1/escalation-policies/\(id)", key: f.key).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/services/api", key: f.key).json["escalation_policy_id"] == .null)
            await f.app.platform.audit.flush()
            let audit = try await client.call(.get, "/api/v1/audit-log?resource=escalation_policy", key: f.key)
            let actions = Set(audit.json["items"]?.arrayValue?.compactMap { $0["action"]?.stringValue } ?? [])
            #expect(actions == ["escalation_policy.create", "escalation_policy.delete"])
        }
    }
}
