import Foundation
import Logging
import OwlCore
import PostgresNIO

/// At each roster handoff (the primary changes), tells the outgoing engineer what is still open, briefs the incoming
/// one, and announces the change in the roster's Slack channel. Messages go through the outbox like alerts do, once
/// per (roster, handoff, recipient) whatever the number of workers; a cursor per roster remembers how far handoffs
/// were announced, so a restarted worker neither repeats nor skips one (it looks back at most a day).
public struct HandoffNotifier: Sendable {
    let database: Database
    let tenantConfig: TenantConfigService
    let logger: Logger
    let now: @Sendable () -> Date
    var defaultModes: [String: ProviderMode]

    public init(database: Database, tenantConfig: TenantConfigService, logger: Logger, defaultModes: [String: ProviderMode] = [:],
                now: @escaping @Sendable () -> Date) {
        self.defaultModes = defaultModes
        self.database = database
        self.tenantConfig = tenantConfig
        self.logger = logger
        self.now = now
    }

    /// Queues the notices of handoffs since the last run; returns how many handoffs it announced.
    public func run(_ tenant: Tenant) async throws -> Int {
        let instant = now()
        let settings = try await ProviderSettings.load(tenantConfig, tenant: tenant, defaults: defaultModes)
        let store = RosterStore(logger: logger)
        return try await database.withTenant(tenant.slug, actor: "handoff-notifier") { connection in
            var announced = 0
            let open = try await openAlerts(on: connection)
            for listed in try await store.active(at: instant, on: connection) {
                let rows = try await connection.query("""
                    SELECT checked_until FROM roster_handoff_cursor WHERE roster_id = \(listed.id) FOR UPDATE SKIP LOCKED
                    """, logger: logger)
                var since: Date?
                for try await at in rows.decode(Date.self) { since = at }
                defer { since = nil }
                guard let roster = try await store.get(listed.id, on: connection) else { continue }
                let from = max(since ?? instant, instant.addingTimeInterval(-86_400))
                if from < instant {
                    let (plan, people) = try await store.plan(for: roster, around: DateInterval(start: from, end: instant), on: connection)
                    let segments = OnCallTimeline.segments(plan, in: DateInterval(start: from.addingTimeInterval(-1), end: instant.addingTimeInterval(1)))
                    for (before, after) in zip(segments, segments.dropFirst())
                    where after.interval.start > from && after.interval.start <= instant && before.primary != after.primary {
                        try await announce(roster: roster, at: after.interval.start, outgoing: people[before.primary], incoming: people[after.primary],
                                           open: open, settings: settings, on: connection)
                        announced += 1
                    }
                }
                try await connection.query("""
                    INSERT INTO roster_handoff_cursor (roster_id, checked_until) VALUES (\(roster.id), \(instant))
                    ON CONFLICT (roster_id) DO UPDATE SET checked_until = EXCLUDED.checked_until
                    """, logger: logger)
            }
            return announced
        }
    }

    struct OpenAlert { var title: String; var severity: Severity; var cluster: String?; var acknowledgedBy: String? }

    func openAlerts(on connection: PostgresConnection) async throws -> [OpenAlert] {
        var result: [OpenAlert] = []
        let rows = try await connection.query("""
            SELECT title, severity, cluster, acknowledged_by FROM alerts WHERE status <> 'resolved'
            ORDER BY array_position(ARRAY['critical','major','warning','info'], severity), first_fired_at DESC LIMIT 200
            """, logger: logger)
        for try await (title, severity, cluster, by) in rows.decode((String, String, String?, String?).self) {
            result.append(OpenAlert(title: title, severity: Severity(rawValue: severity) ?? .warning, cluster: cluster, acknowledgedBy: by))
        }
        return result
    }

    /// The spec's three messages.
    static func texts(roster: String, outgoing: String?, incoming: String, incomingSlack: String?, open: [OpenAlert]) -> (outgoing: String, incoming: String, channel: String) {
        let counts = Dictionary(grouping: open, by: \.severity).sorted { $0.key > $1.key }.map { "\($0.value.count) \($0.key.rawValue)" }
        let summary = "Open incidents: \(open.count)" + (counts.isEmpty ? "" : " (\(counts.joined(separator: ", ")))")
        let lines = open.prefix(5).map { alert in
            "- \(alert.severity.rawValue.uppercased()): \(alert.title)" + (alert.cluster.map { " (cluster \($0))" } ?? "")
                + (alert.acknowledgedBy.map { " — acknowledged by \($0)" } ?? " — investigating")
        }
        return ("Your on-call shift for \(roster) is ending. \(summary).",
                (["You are now on-call for \(roster). Open incidents: \(open.count)."] + lines).joined(separator: "\n"),
                "On-call has changed for \(roster): \(incomingSlack.map { "<@\($0)> (\(incoming))" } ?? incoming)"
                    + (outgoing.map { " takes over from \($0)." } ?? " is on call."))
    }

    func announce(roster: Roster, at boundary: Date, outgoing: User?, incoming: User?, open: [OpenAlert], settings: ProviderSettings,
                  on connection: PostgresConnection) async throws {
        guard let incoming else { return }
        let texts = Self.texts(roster: roster.name, outgoing: outgoing?.displayName, incoming: incoming.displayName,
                               incomingSlack: incoming.slackUserID, open: open)
        let key = "handoff:\(roster.id.uuidString.lowercased()):\(Int(boundary.timeIntervalSince1970))"
        if let outgoing { try await tell(outgoing, texts.outgoing, key: "\(key):outgoing", settings: settings, on: connection) }
        try await tell(incoming, texts.incoming, key: "\(key):incoming", settings: settings, on: connection)
        if let channel = roster.slackChannel {
            try await queue(.slackChannel, recipient: channel, payload: .object(["slack": .object(["channel": .string(channel), "text": .string(texts.channel)])]),
                            key: "\(key):channel", settings: settings, on: connection)
        }
    }

    /// A Slack DM when the person has a Slack id, else an SMS when they have a phone.
    func tell(_ user: User, _ text: String, key: String, settings: ProviderSettings, on connection: PostgresConnection) async throws {
        if let slack = user.slackUserID {
            try await queue(.slackDM, recipient: slack, payload: .object(["slack": .object(["channel": .string(slack), "text": .string(text)])]),
                            key: key, settings: settings, on: connection)
        } else if let phone = user.phone {
            try await queue(.sms, recipient: phone, payload: .object(["sms": .string(text)]), key: key, settings: settings, on: connection)
        }
    }

    func queue(_ method: NotificationMethod, recipient: String, payload: JSONValue, key: String, settings: ProviderSettings,
               on connection: PostgresConnection) async throws {
        try await OutboxMessage.queue(method, recipient: recipient, payload: payload, key: key, mode: settings.mode(for: method), at: now(),
                                      on: connection, logger: logger)
    }
}
