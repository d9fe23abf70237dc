import Foundation
import OwlCore

/// PagerDuty Events API v2, so that anything that can page PagerDuty can page NightOwl.
enum PagerDutyEvents {
    /// PagerDuty's own error shape: `{"status": "invalid event", "message": ..., "errors": [...]}` with 400.
    struct InvalidEvent: Error {
        let errors: [String]
    }

    struct Parsed {
        var routingKey: String?
        var event: AlertEvent
        var dedupKey: String
    }

    static let severities: [String: Severity] = ["critical": .critical, "error": .major, "warning": .warning, "info": .info]

    static func parse(_ body: JSONValue, now: Date) throws(InvalidEvent) -> Parsed {
        guard let object = body.objectValue else { throw InvalidEvent(errors: ["the event must be a JSON object"]) }
        var errors: [String] = []
        let routingKey = object["routing_key"]?.stringValue
        guard let action = object["event_action"]?.stringValue else { throw InvalidEvent(errors: ["'event_action' is missing"]) }
        let dedupKey = object["dedup_key"]?.stringValue
        if let dedupKey, !dedupKey.hasAtMost(255) { errors.append("'dedup_key' must be at most 255 characters") }
        switch action {
        case "trigger":
            guard let payload = object["payload"]?.objectValue else { throw InvalidEvent(errors: ["'payload' is missing or not an object"]) }
            let summary = payload["summary"]?.stringValue ?? ""
            if summary.isEmpty { errors.append("'payload.summary' is missing or blank") }
            if !summary.hasAtMost(1024) { errors.append("'payload.summary' must be at most 1024 characters") }
            let source = payload["source"]?.stringValue ?? ""
            if source.isEmpty { errors.append("'payload.source' is missing or blank") }
            let severityText = payload["severity"]?.stringValue ?? ""
            let severity = severities[severityText]
            if severity == nil { errors.append("'payload.severity' must be one of critical, error, warning, info") }
            var timestamp = now
            if let raw = payload["timestamp"]?.stringValue {
                if let parsed = Timestamp.parse(raw) { timestamp = parsed } else { errors.append("'payload.timestamp' must be ISO 8601") }
            }
            guard errors.isEmpty, let severity else { throw InvalidEvent(errors: errors) }
            var labels: [String: String] = ["source": source]
            for key in ["component", "group", "class"] {
                if let value = payload[key]?.stringValue { labels[key] = value.limited(to: 4000) }
            }
            var annotations: [String: String] = [:]
            if let details = payload["custom_details"], !details.isNull { annotations["custom_details"] = details.jsonText().limited(to: 20_000) }
            let key = dedupKey ?? UUID.random().text(lowercase: true)
            let event = AlertEvent(
                action: .fire, fingerprint: "pd:\(key)", severity: severity, source: .pagerduty, title: summary,
                description: annotations["custom_details"] ?? "", labels: labels, annotations: annotations,
                service: labels["component"] ?? labels["group"], cluster: nil, namespace: nil, runbookURL: nil,
                generatorURL: object["client_url"]?.stringValue, firedAt: timestamp, agent: nil, actor: "pagerduty:\(source)")
            return Parsed(routingKey: routingKey, event: event, dedupKey: key)
        case "acknowledge", "resolve":
            guard let dedupKey, !dedupKey.isEmpty else { throw InvalidEvent(errors: ["'dedup_key' is required to \(action)"]) }
            guard errors.isEmpty else { throw InvalidEvent(errors: errors) }
            let event = AlertEvent(
                action: action == "resolve" ? .resolve : .acknowledge, fingerprint: "pd:\(dedupKey)", severity: .info, source: .pagerduty,
                title: "", description: "", labels: [:], annotations: [:], service: nil, cluster: nil, namespace: nil, runbookURL: nil,
                generatorURL: nil, firedAt: now, agent: nil, actor: "pagerduty")
            return Parsed(routingKey: routingKey, event: event, dedupKey: dedupKey)
        default:
            throw InvalidEvent(errors: ["'event_action' must be trigger, acknowledge or resolve"])
        }
    }
}
