import Foundation
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import Testing
@testable import NightOwl

extension TestClientProtocol {
    /// Creates a user and returns its id.
    func createUser(_ key: String, _ name: String, timezone: String = "Europe/Berlin", phone: String? = nil) async throws -> String {
        let email = name.lowercased().replacingOccurrences(of: " ", with: ".") + "-\(UUID().uuidString.prefix(6))@example.com"
        let phoneField = phone.map { #","phone":"\#($0)""# } ?? ""
        let response = try await call(.post, "/api/v1/users", key: key,
                                      json: #"{"email":"\#(email)","display_name":"\#(name)","role":"engineer","timezone":"\#(timezone)"\#(phoneField)}"#)
        guard response.status == .created, let id = response.json["id"]?.stringValue else {
            throw TestDatabase.SetupError("creating a user failed: \(response.status) \(response.text)")
        }
        return id.lowercased()
    }

    func createRoster(_ key: String, _ json: String) async throws -> String {
        let response = try await call(.post, "/api/v1/rosters", key: key, json: json)
        guard response.status == .created, let id = response.json["id"]?.stringValue else {
            throw TestDatabase.SetupError("creating a roster failed: \(response.status) \(response.text)")
        }
        return id
    }
}

@Suite struct OverridePermissionTests {
    static let tenant = Tenant(id: UUID(), name: "T", slug: TenantSlug("t")!, createdAt: Date())
    static let me = UUID()

    @Test(arguments: [
        (Role.engineer, me as UUID?, true), (.engineer, UUID() as UUID?, false), (.engineer, nil as UUID?, false),
        (.manager, nil, true), (.admin, UUID(), true), (.readonly, me, false),
    ])
    func whoMayOverride(role: Role, caller: UUID?, allowed: Bool) {
        let principal = Principal(tenant: Self.tenant, role: role, method: .apiKey, actor: "x", userID: caller)
        #expect(RosterRules.mayManageOverride(of: Self.me, principal) == allowed)
    }
}

@Suite struct RosterAPITests {
    @Test func weeklyRosterAnswersWhoIsOnCallWithLocalTimes() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let anna = try await client.createUser(f.key, "Anna Berg", timezone: "Europe/Berlin", phone: "+49 151 1234 5678")
            let ben = try await client.createUser(f.key, "Ben Ode", timezone: "America/New_York")
            let cleo = try await client.createUser(f.key, "Cleo Park", timezone: "Asia/Kolkata")
            let roster = try await client.createRoster(f.key, #"""
                {"name":"Platform","timezone":"Europe/Berlin","rotation_type":"weekly","handoff_time":"08:00",
                 "start_date":"2026-03-23","members":["\#(anna)","\#(ben)","\#(cleo)"]}
                """#)
            // Shift 1 runs from Monday 2026-03-30 08:00 CEST: across the change, shift 0 lasted 167 hours.
            let now = try await client.call(.get, "/api/v1/rosters/\(roster)/oncall?at=2026-03-31T10:00:00.000Z", key: f.key)
            #expect(now.status == .ok, "\(now.text)")
            #expect(now.json["primary"]?["user_id"]?.stringValue?.lowercased() == ben)
            #expect(now.json["primary"]?["local_time"]?.stringValue == "2026-03-31T06:00:00-04:00")
            #expect(now.json["secondary"]?["user_id"]?.stringValue?.lowercased() == cleo)
            #expect(now.json["shift"]?["start"]?.stringValue == "2026-03-30T06:00:00.000Z")
            #expect(now.json["shift"]?["start_local"]?.stringValue == "2026-03-30T08:00:00+02:00")
            #expect(now.json["shift"]?["end_local"]?.stringValue == "2026-04-06T08:00:00+02:00")
            #expect(now.json["shift"]?["source"]?.stringValue == "rotation")
            let first = try await client.call(.get, "/api/v1/rosters/\(roster)/oncall?at=2026-03-24T00:00:00.000Z", key: f.key)
            #expect(first.json["primary"]?["phone"]?.stringValue == "+4915112345678")
            #expect(first.json["shift"]?["end"]?.stringValue == "2026-03-30T06:00:00.000Z")
            let before = try await client.call(.get, "/api/v1/rosters/\(roster)/oncall?at=2026-03-01T00:00:00.000Z", key: f.key)
            #expect(before.json["primary"] == .null)
            #expect(before.json["is_active"]?.boolValue == false)

            let schedule = try await client.call(.get, "/api/v1/rosters/\(roster)/schedule?from=2026-03-23T00:00:00Z&to=2026-04-13T00:00:00.000Z", key: f.key)
            let starts = schedule.json["items"]?.arrayValue?.compactMap { $0["start"]?.stringValue }
            #expect(starts == ["2026-03-23T07:00:00.000Z", "2026-03-30T06:00:00.000Z", "2026-04-06T06:00:00.000Z"])
        }
    }

    @Test func overridesTakePrecedenceAndHistoryShowsThem() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let anna = try await client.createUser(f.key, "Anna")
            let ben = try await client.createUser(f.key, "Ben")
            let dora = try await client.createUser(f.key, "Dora")
            let roster = try await client.createRoster(f.key, #"""
                {"name":"Daily","timezone":"UTC","rotation_type":"daily","handoff_time":"09:00","start_date":"2026-01-01","members":["\#(anna)","\#(ben)"]}
                """#)
            let created = try await client.call(.post, "/api/v1/rosters/\(roster)/overrides", key: f.key,
                                                json: #"{"user_id":"\#(dora)","start":"2026-01-02T12:00:00.000Z","end":"2026-01-02T18:00:00.000Z","reason":"swap"}"#)
            #expect(created.status == .created, "\(created.text)")
            let during = try await client.call(.get, "/api/v1/rosters/\(roster)/oncall?at=2026-01-02T13:00:00.000Z", key: f.key)
            #expect(during.json["primary"]?["user_id"]?.stringValue?.lowercased() == dora)
            #expect(during.json["shift"]?["source"]?.stringValue == "override")
            #expect(during.json["shift"]?["override"]?["reason"]?.stringValue == "swap")
            #expect(during.json["shift"]?["end"]?.stringValue == "2026-01-02T18:00:00.000Z")
            let after = try await client.call(.get, "/api/v1/rosters/\(roster)/oncall?at=2026-01-02T18:00:00.000Z", key: f.key)
            #expect(after.json["primary"]?["user_id"]?.stringValue?.lowercased() == ben)

            let history = try await client.call(.get, "/api/v1/rosters/\(roster)/oncall/history?before=2026-01-04T10:00:00.000Z", key: f.key)
            let people = history.json["items"]?.arrayValue?.compactMap { $0["primary"]?["user_id"]?.stringValue?.lowercased() }
            // Most recent first: Anna (3rd), Ben (2nd, after the override), Dora, Ben (2nd, before), Anna (1st).
            #expect(people == [anna, ben, dora, ben, anna])

            // An engineer's API key belongs to nobody, so it may not override for someone else.
            let keys = try await Conformance.keysForAllRoles(f.app, adminKey: f.key)
            let refused = try await client.call(.post, "/api/v1/rosters/\(roster)/overrides", key: keys[.engineer],
                                                json: #"{"user_id":"\#(anna)","start":"2026-01-05T00:00:00.000Z","end":"2026-01-06T00:00:00Z"}"#)
            #expect(refused.status == .forbidden)
            let id = created.json["id"]?.stringValue ?? ""
            #expect(try await client.call(.delete, "/api/v1/rosters/\(roster)/overrides/\(id)", key: keys[.engineer]).status == .forbidden)
            #expect(try await client.call(.delete, "/api/v1/rosters/\(roster)/overrides/\(id)", key: f.key).status == .noContent)
            let back = try await client.call(.get, "/api/v1/rosters/\(roster)/oncall?at=2026-01-02T13:00:00.000Z", key: f.key)
            #expect(back.json["primary"]?["user_id"]?.stringValue?.lowercased() == ben)
        }
    }

    @Test func followTheSunHandsOverBetweenRegions() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let stefan = try await client.createUser(f.key, "Stefan", timezone: "Pacific/Auckland")
            let hans = try await client.createUser(f.key, "Hans")
            let roster = try await client.createRoster(f.key, #"""
                {"name":"Global Primary","timezone":"UTC","rotation_type":"weekly","handoff_time":"00:00","start_date":"2026-01-01",
                 "is_follow_the_sun":true,"sub_rosters":[
                   {"name":"APAC","timezone":"Pacific/Auckland","coverage":{"start":"08:00","end":"20:00"},"members":["\#(stefan)"]},
                   {"name":"EMEA","timezone":"Europe/Berlin","coverage":{"start":"08:00","end":"20:00"},"members":["\#(hans)"]}]}
                """#)
            let detail = try await client.call(.get, "/api/v1/rosters/\(roster)", key: f.key)
            #expect(detail.json["sub_rosters"]?.arrayValue?.count == 2)
            for (at, who, sub, inWindow) in [("2026-07-15T05:00:00.000Z", stefan, "APAC", true), ("2026-07-15T07:00:00.000Z", hans, "EMEA", true),
                                             ("2026-07-15T19:00:00.000Z", hans, "EMEA", false), ("2026-07-15T21:00:00.000Z", stefan, "APAC", true)] {
                let answer = try await client.call(.get, "/api/v1/rosters/\(roster)/oncall?at=\(at)", key: f.key)
                #expect(answer.json["primary"]?["user_id"]?.stringValue?.lowercased() == who, "\(at): \(answer.text)")
                #expect(answer.json["shift"]?["sub_roster"]?["name"]?.stringValue == sub)
                #expect(answer.json["shift"]?["sub_roster"]?["in_coverage_window"]?.boolValue == inWindow)
            }
            let everyone = try await client.call(.get, "/api/v1/oncall?at=2026-07-15T07:00:00.000Z", key: f.key)
            #expect(everyone.json["items"]?.arrayValue?.first?["primary"]?["display_name"]?.stringValue == "Hans")
        }
    }

    @Test func serviceOnCallGivesTheFieldsTicketOwlReads() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let anna = try await client.createUser(f.key, "Anna")
            let roster = try await client.createRoster(f.key, #"""
                {"name":"Payments","timezone":"UTC","rotation_type":"custom","rotation_length_days":3,"handoff_time":"10:00","start_date":"2020-01-01","members":["\#(anna)"]}
                """#)
            let service = try await client.call(.post, "/api/v1/services", key: f.key, json: #"{"name":"payments-api","roster_id":"\#(roster)"}"#)
            #expect(service.status == .created, "\(service.text)")
            let answer = try await client.call(.get, "/api/v1/oncall/payments-api", key: f.key)
            #expect(answer.status == .ok, "\(answer.text)")
            #expect(answer.json["user_name"]?.stringValue == "Anna")
            #expect(answer.json["user_email"]?.stringValue?.hasPrefix("anna-") == true)
            #expect(answer.json["shift_end"]?.stringValue?.hasSuffix("T10:00:00.000Z") == true)
            let bare = try await client.call(.post, "/api/v1/services", key: f.key, json: #"{"name":"lonely"}"#)
            #expect(bare.status == .created)
            let none = try await client.call(.get, "/api/v1/oncall/lonely", key: f.key)
            #expect(none.status == .notFound && none.errorCode == "no_roster")
            #expect(try await client.call(.get, "/api/v1/oncall/nope", key: f.key).status == .notFound)
            // Deleting the roster leaves the service without one.
            #expect(try await client.call(.delete, "/api/v1/rosters/\(roster)", key: f.key).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/services/payments-api", key: f.key).json["roster_id"] == .null)
        }
    }

    @Test func membersAreOrderedAndTheLastCannotLeave() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let a = try await client.createUser(f.key, "A")
            let b = try await client.createUser(f.key, "B")
            let c = try await client.createUser(f.key, "C")
            let roster = try await client.createRoster(f.key, #"""
                {"name":"Ops","timezone":"UTC","rotation_type":"daily","handoff_time":"00:00","start_date":"2026-01-01","members":["\#(a)"]}
                """#)
            #expect(try await client.call(.post, "/api/v1/rosters/\(roster)/members", key: f.key, json: #"{"user_id":"\#(b)"}"#).status == .created)
            let inserted = try await client.call(.post, "/api/v1/rosters/\(roster)/members", key: f.key, json: #"{"user_id":"\#(c)","position":0}"#)
            #expect(inserted.json["items"]?.arrayValue?.compactMap { $0["user_id"]?.stringValue?.lowercased() } == [c, a, b])
            #expect(try await client.call(.post, "/api/v1/rosters/\(roster)/members", key: f.key, json: #"{"user_id":"\#(b)"}"#).status == .conflict)
            let reordered = try await client.call(.put, "/api/v1/rosters/\(roster)/members", key: f.key, json: #"{"user_ids":["\#(b)","\#(a)"]}"#)
            #expect(reordered.json["items"]?.arrayValue?.compactMap { $0["user_id"]?.stringValue?.lowercased() } == [b, a])
            #expect(reordered.json["items"]?.arrayValue?.compactMap { $0["position"]?.numberValue } == [0, 1])
            #expect(try await client.call(.delete, "/api/v1/rosters/\(roster)/members/\(b)", key: f.key).status == .noContent)
            let last = try await client.call(.delete, "/api/v1/rosters/\(roster)/members/\(a)", key: f.key)
            #expect(last.status == .conflict)
            await f.app.platform.audit.flush()
            let audit = try await client.call(.get, "/api/v1/audit-log?resource=roster", key: f.key)
            let actions = Set(audit.json["items"]?.arrayValue?.compactMap { $0["action"]?.stringValue } ?? [])
            #expect(actions.isSuperset(of: ["roster.create", "roster.member.add", "roster.member.set", "roster.member.remove"]), "\(actions)")
        }
    }

    /// Bad input is a 4xx naming the field, and nothing is written.
    @Test(arguments: [
        (#"{"name":"X","timezone":"Mars/Olympus","rotation_type":"weekly","handoff_time":"08:00","start_date":"2026-01-01","members":["$A"]}"#, 422, "timezone"),
        (#"{"name":"X","timezone":"CET","rotation_type":"weekly","handoff_time":"08:00","start_date":"2026-01-01","members":["$A"]}"#, 422, "timezone"),
        (#"{"name":"X","timezone":"UTC","rotation_type":"weekly","handoff_time":"8am","start_date":"2026-01-01","members":["$A"]}"#, 422, "handoff_time"),
        (#"{"name":"X","timezone":"UTC","rotation_type":"weekly","handoff_time":"08:00","start_date":"2026-02-30","members":["$A"]}"#, 422, "start_date"),
        (#"{"name":"X","timezone":"UTC","rotation_type":"weekly","handoff_time":"08:00","start_date":"2026-03-01","end_date":"2026-02-01","members":["$A"]}"#, 422, "end_date"),
        (#"{"name":"X","timezone":"UTC","rotation_type":"weekly","handoff_time":"08:00","start_date":"2026-01-01","members":[]}"#, 422, "members"),
        (#"{"name":"X","timezone":"UTC","rotation_type":"weekly","handoff_time":"08:00","start_date":"2026-01-01","members":["6c1e0a4e-0000-4000-8000-000000000000"]}"#, 422, "members"),
        (#"{"name":"X","timezone":"UTC","rotation_type":"fortnightly","handoff_time":"08:00","start_date":"2026-01-01","members":["$A"]}"#, 422, "rotation_type"),
        (#"{"name":"X","timezone":"UTC","rotation_type":"custom","handoff_time":"08:00","start_date":"2026-01-01","members":["$A"]}"#, 422, "rotation_length_days"),
        (#"{"name":"X","timezone":"UTC","rotation_type":"weekly","handoff_time":"08:00","start_date":"2026-01-01","members":["not-a-uuid"]}"#, 422, "members"),
        (#"{"name":"X","timezone":"UTC","rotation_type":"weekly","handoff_time":"08:00","start_date":"2026-01-01","is_follow_the_sun":true,"sub_rosters":[{"name":"A","members":["$A"]}]}"#, 422, "sub_rosters[0].coverage"),
    ])
    func badRostersAreRefused(body: String, status: Int, field: String) async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let user = try await client.createUser(f.key, "A")
            let response = try await client.call(.post, "/api/v1/rosters", key: f.key, json: body.replacingOccurrences(of: "$A", with: user))
            #expect(Int(response.status.code) == status, "\(response.text)")
            let reported = response.json["error"]?["details"]?["field"]?.stringValue ?? ""
            #expect(reported.hasPrefix(field) || response.text.contains(field), "\(response.text)")
            #expect(try await client.call(.get, "/api/v1/rosters", key: f.key).json["total"]?.numberValue == 0)
        }
    }

    @Test func badQueriesAndUnknownIDs() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let user = try await client.createUser(f.key, "A")
            let roster = try await client.createRoster(f.key, #"""
                {"name":"R","timezone":"UTC","rotation_type":"daily","handoff_time":"00:00","start_date":"2026-01-01","members":["\#(user)"]}
                """#)
            #expect(try await client.call(.get, "/api/v1/rosters/\(roster)/oncall?at=yesterday", key: f.key).status == .unprocessableContent)
            #expect(try await client.call(.get, "/api/v1/rosters/\(roster)/schedule?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00.000Z", key: f.key).status == .unprocessableContent)
            #expect(try await client.call(.get, "/api/v1/rosters/\(roster)/schedule?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00.000Z", key: f.key).status == .unprocessableContent)
            #expect(try await client.call(.get, "/api/v1/rosters/not-a-uuid/oncall", key: f.key).status == .badRequest)
            #expect(try await client.call(.get, "/api/v1/rosters/\(UUID())/oncall", key: f.key).status == .notFound)
            let backwards = try await client.call(.post, "/api/v1/rosters/\(roster)/overrides", key: f.key,
                                                  json: #"{"user_id":"\#(user)","start":"2026-01-02T00:00:00.000Z","end":"2026-01-01T00:00:00Z"}"#)
            #expect(backwards.status == .unprocessableContent)
            let badUser = try await client.call(.put, "/api/v1/users/\(user)", key: f.key, json: #"{"phone":"0151 1234"}"#)
            #expect(badUser.status == .unprocessableContent && badUser.text.contains("phone"))
            let badZone = try await client.call(.put, "/api/v1/users/\(user)", key: f.key, json: #"{"timezone":"GMT+1"}"#)
            #expect(badZone.status == .unprocessableContent)
            let cleared = try await client.call(.put, "/api/v1/users/\(user)", key: f.key, json: #"{"phone":null,"slack_user_id":"U012AB3CD"}"#)
            #expect(cleared.status == .ok && cleared.json["phone"] == .null && cleared.json["slack_user_id"]?.stringValue == "U012AB3CD")
            let ended = try await client.call(.put, "/api/v1/rosters/\(roster)", key: f.key, json: #"{"end_date":"2025-12-01"}"#)
            #expect(ended.status == .unprocessableContent)
            let finished = try await client.call(.put, "/api/v1/rosters/\(roster)", key: f.key, json: #"{"end_date":"2026-01-10"}"#)
            #expect(finished.status == .ok && finished.json["is_active"]?.boolValue == false)
            let afterEnd = try await client.call(.get, "/api/v1/rosters/\(roster)/oncall?at=2026-01-11T00:00:00.000Z", key: f.key)
            #expect(afterEnd.status == .ok && afterEnd.json["primary"] == .null)
        }
    }
}
