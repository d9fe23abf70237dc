import Foundation
import OwlCore
import PostgresNIO

/// What an alert's page shows besides the alert: the knowledge-base entry it matched and that entry's runbook, and the
/// escalation's story (each person paged, how, and every delivery attempt).
struct AlertPageData {
    var alert: Alert
    var incident: Incident?
    var runbook: Runbook?
    var events: [EscalationEventRecord]
    /// Delivery attempts per notification, oldest first.
    var attempts: [UUID: [(outcome: String, error: String?, at: Date)]]

    static func load(_ alert: Alert, platform: Platform, on connection: PostgresConnection) async throws -> AlertPageData {
        // The entry it matched, or one written since that lists its fingerprint.
        let incident = try await AlertKnowledge(platform: platform).knownEntry(alert, on: connection)
        let runbook = try await incident?.runbookID.asyncFlatMap { try await RunbookStore(logger: platform.logger).get($0, on: connection) }
        let events = try await EscalationStore(logger: platform.logger).events(alert: alert.id, on: connection)
        var attempts: [UUID: [(String, String?, Date)]] = [:]
        let notifications = events.compactMap(\.notificationID)
        if !notifications.isEmpty {
            for try await (id, outcome, error, at) in try await connection.query("""
                SELECT message_id, outcome, error, attempted_at FROM outbox_attempts WHERE message_id = ANY(\(notifications)) ORDER BY id
                """, logger: platform.logger).decode((UUID, String, String?, Date).self) { attempts[id, default: []].append((outcome, error, at)) }
        }
        return AlertPageData(alert: alert, incident: incident, runbook: runbook, events: events, attempts: attempts)
    }

    /// The timeline, oldest first: fired, each person paged (tier, how, outcome, attempts), acknowledged, resolved.
    func timeline(time: ConsoleTime) -> [[String: Any]] {
        var entries: [(Date, [String: Any])] = [(alert.firstFiredAt, ["text": "Fired", "kind": "fired", "at": time.value(alert.firstFiredAt)])]
        for event in events {
            let tries = event.notificationID.flatMap { attempts[$0] } ?? []
            entries.append((event.createdAt, [
                "text": "Tier \(event.tier + 1)\(event.repetition > 0 ? " (repeat \(event.repetition))" : ""): \(Self.method(event.method)) to \(event.recipient.isEmpty ? "nobody reachable" : event.recipient)",
                "kind": event.outcome, "outcome": Self.outcome(event.outcome), "error": event.error ?? false, "at": time.value(event.createdAt),
                "attempts": tries.map { ["outcome": $0.outcome, "error": $0.error ?? false, "at": time.value($0.at)] }, "hasAttempts": !tries.isEmpty,
            ]))
        }
        if let at = alert.acknowledgedAt {
            entries.append((at, ["text": "Acknowledged by \(alert.acknowledgedBy ?? "someone")", "kind": "acknowledged", "at": time.value(at)]))
        }
        if let at = alert.resolvedAt {
            entries.append((at, ["text": "Resolved by \(alert.resolvedBy ?? "someone")", "kind": "resolved", "at": time.value(at)]))
        }
        return entries.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element.1)
    }

    static func method(_ raw: String) -> String {
        switch raw {
        case "slack_dm": "Slack message"
        case "slack_channel": "Slack channel post"
        case "mattermost": "Mattermost post"
        case "sms": "SMS"
        case "phone": "phone call"
        case "webhook": "webhook"
        default: raw
        }
    }

    static func outcome(_ raw: String) -> String {
        switch raw {
        case "queued": "queued"
        case "sent": "delivered"
        case "sandboxed": "recorded (sandbox)"
        case "retrying": "retrying"
        case "failed": "failed"
        case "unreachable": "could not be reached"
        default: raw
        }
    }
}
