import Foundation
import Logging
import OwlCore
import PostgresNIO

/// The demo tenant's on-call set-up: a weekly and a daily roster, the spec's follow-the-sun "Global Primary"
/// (APAC in Pacific/Auckland, EMEA in Europe/Berlin), an override and a default escalation policy, with the people
/// they need.
enum DemoRosters {
    static let people: [(email: String, name: String, timezone: String, phone: String)] = [
        ("stefan@acme.example", "Stefan Ng", "Pacific/Auckland", "+6421555001"),
        ("aroha@acme.example", "Aroha Tane", "Pacific/Auckland", "+6421555002"),
        ("mei@acme.example", "Mei Chen", "Pacific/Auckland", "+6421555003"),
        ("hans@acme.example", "Hans Vogel", "Europe/Berlin", "+4915155500001"),
        ("katja@acme.example", "Katja Braun", "Europe/Berlin", "+4915155500002"),
        ("lars@acme.example", "Lars Holm", "Europe/Berlin", "+4915155500003"),
        ("dana@acme.example", "Dana Brooks", "America/New_York", "+12125550104"),
    ]

    @Sendable static func seed(_ connection: PostgresConnection, _ logger: Logger, now: Date) async throws {
        var ids: [String: UUID] = [:]
        for person in people {
            let rows = try await connection.query("""
                INSERT INTO users (email, display_name, role, timezone, phone)
                VALUES (\(person.email), \(person.name), 'engineer', \(person.timezone), \(person.phone))
                ON CONFLICT ((lower(email))) DO UPDATE SET timezone = EXCLUDED.timezone RETURNING id
                """, logger: logger)
            for try await id in rows.decode(UUID.self) { ids[person.email] = id }
        }
        for try await row in try await connection.query("SELECT email, id FROM users WHERE email LIKE '%@acme.example'", logger: logger)
            .decode((String, UUID).self) { ids[row.0] = row.1 }
        func who(_ names: String...) -> [UUID] { names.compactMap { ids["\($0)@acme.example"] } }

        // Start on a Monday three to four weeks ago, so the demo always has history and a current shift.
        let today = Zone.utc.local(now).date
        let monday = today.adding(days: -21 - ((today.daysSinceEpoch + 3) % 7))
        let store = RosterStore(logger: logger)
        func draft(_ name: String, _ description: String, _ zone: String, _ type: RotationKind, _ handoff: String,
                   followTheSun: Bool = false, coverage: (String, String)? = nil, channel: String? = nil) -> RosterDraft {
            RosterDraft(name: name, description: description, timezone: zone, rotationType: type, rotationLengthDays: type == .daily ? 1 : 7,
                        handoffTime: LocalTime(handoff)!, startDate: monday, endDate: nil, isFollowTheSun: followTheSun,
                        coverageStart: coverage.flatMap { LocalTime($0.0) }, coverageEnd: coverage.flatMap { LocalTime($0.1) },
                        slackChannel: channel, parentID: nil)
        }
        let weekly = try await store.create(NewRoster(
            draft: draft("Platform Weekly", "Kubernetes platform and shared infrastructure", "Europe/Berlin", .weekly, "09:00", channel: "platform-oncall"),
            members: who("alice", "bob", "hans", "katja"), subRosters: []), on: connection)
        let daily = try await store.create(NewRoster(
            draft: draft("Database Daily", "PostgreSQL and search clusters", "America/New_York", .daily, "10:00", channel: "db-oncall"),
            members: who("dana", "lars", "bob"), subRosters: []), on: connection)
        let global = try await store.create(NewRoster(
            draft: draft("Global Primary", "Follow-the-sun first responders", "UTC", .weekly, "00:00", followTheSun: true, channel: "global-oncall"),
            members: [], subRosters: [
                NewRoster(draft: draft("APAC", "Auckland day", "Pacific/Auckland", .weekly, "08:00", coverage: ("08:00", "20:00")),
                          members: who("stefan", "aroha", "mei"), subRosters: []),
                NewRoster(draft: draft("EMEA", "Berlin day", "Europe/Berlin", .weekly, "08:00", coverage: ("08:00", "20:00")),
                          members: who("hans", "katja", "lars"), subRosters: []),
            ]), on: connection)
        if let lars = ids["lars@acme.example"] {
            let start = Zone(identifier: "Europe/Berlin")!.instant(today.adding(days: 1), LocalTime("12:00")!)
            _ = try await store.createOverride(weekly, user: lars, interval: DateInterval(start: start, duration: 6 * 3_600),
                                               reason: "Covering while Katja is at the dentist", by: "seed-demo", on: connection)
        }
        // The default escalation policy: the follow-the-sun primary, then its secondary by phone, then the platform
        // primary and the alert channel. All providers stay in sandbox mode until configured.
        let policy = EscalationPolicy(
            id: UUID(), name: "Default", description: "Critical alerts: first responder, backup, then platform", severityThreshold: .critical,
            repeatCount: 1, isDefault: true, tiers: [
                EscalationTier(timeoutMinutes: 5, targets: [.rosterPrimary(global)], methods: [.slackDM, .sms]),
                EscalationTier(timeoutMinutes: 10, targets: [.rosterSecondary(global)], methods: [.phone, .sms]),
                EscalationTier(timeoutMinutes: 15, targets: [.rosterPrimary(weekly), .channel("platform-oncall")], methods: [.phone, .slackChannel]),
            ], createdAt: now, updatedAt: now)
        _ = try await EscalationStore(logger: logger).save(policy, creating: true, on: connection)
        for (service, roster) in [("payments-api", weekly), ("checkout-web", global), ("auth-service", global), ("search-indexer", daily)] {
            try await connection.query("UPDATE services SET roster_id = \(roster) WHERE name = \(service)", logger: logger)
        }
    }
}
