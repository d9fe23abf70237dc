import Foundation
import OwlCore

/// Turns each source's payload into `AlertEvent`s. A payload whose envelope is wrong is refused whole (4xx);
/// inside a valid envelope, each alert stands alone: bad ones are reported, the others are stored.
enum AlertPayloads {
    typealias Parsed = [Result<AlertEvent, AlertProblem>]

    struct AlertProblem: Error {
        let message: String
    }

    /// Alertmanager webhook version 4: every alert of the group, each with its own status.
    static func alertmanager(_ body: JSONValue, now: Date) throws -> Parsed {
        guard let object = body.objectValue else { throw APIError.validation("the body must be an Alertmanager webhook object") }
        if let version = object["version"]?.stringValue, version != "4" {
            throw APIError.validation("only Alertmanager webhook version 4 is supported (got \(version))", field: "version")
        }
        guard case .array(let alerts)? = object["alerts"] else { throw APIError.validation("alerts is required and must be a list", field: "alerts") }
        guard alerts.count <= 1000 else { throw APIError.validation("at most 1000 alerts per request", field: "alerts") }
        return alerts.map { raw in
            Result {
                guard let alert = raw.objectValue else { throw AlertProblem(message: "an alert must be an object") }
                let labels = try stringMap(alert["labels"], "labels", required: true)
                let annotations = try stringMap(alert["annotations"], "annotations", required: false)
                let status = alert["status"]?.stringValue ?? object["status"]?.stringValue ?? "firing"
                guard status == "firing" || status == "resolved" else { throw AlertProblem(message: "status must be firing or resolved") }
                let startsAt = try time(alert["startsAt"], "startsAt") ?? now
                let fingerprint = try text(alert["fingerprint"], "fingerprint", max: 512) ?? AlertFingerprint.of(labels: labels)
                let title = annotations["summary"] ?? annotations["title"] ?? labels["alertname"] ?? "Alertmanager alert"
                return AlertEvent(
                    action: status == "resolved" ? .resolve : .fire, fingerprint: fingerprint,
                    severity: SeverityMapping.severity(labels["severity"] ?? labels["priority"]), source: .alertmanager,
                    title: title.limited(to: 500), description: (annotations["description"] ?? annotations["message"] ?? "").limited(to: 20_000),
                    labels: labels, annotations: annotations, service: ServiceLabel.from(labels), cluster: labels["cluster"],
                    namespace: labels["namespace"], runbookURL: annotations["runbook_url"] ?? annotations["runbook"],
                    generatorURL: try text(alert["generatorURL"], "generatorURL", max: 2048), firedAt: startsAt, agent: nil,
                    actor: "alertmanager")
            }.mapError { $0 as? AlertProblem ?? AlertProblem(message: "\($0)") }
        }
    }

    /// Keep's alert event: one object or a list of them.
    static func keep(_ body: JSONValue, now: Date) throws -> Parsed {
        try oneOrMany(body, "a Keep alert").map { raw in
            Result {
                guard let alert = raw.objectValue else { throw AlertProblem(message: "an alert must be an object") }
                guard let name = try text(alert["name"], "name", max: 500), !name.isEmpty else { throw AlertProblem(message: "name is required") }
                let labels = try stringMap(alert["labels"], "labels", required: false)
                let status = (alert["status"]?.stringValue ?? "firing").lowercased()
                let action: AlertEvent.Action
                switch status {
                case "firing", "pending": action = .fire
                case "resolved": action = .resolve
                case "acknowledged": action = .acknowledge
                default: throw AlertProblem(message: "status '\(status)' is not firing, pending, acknowledged or resolved")
                }
                let sources: [String] = switch alert["source"] {
                case .array(let items): items.compactMap(\.stringValue)
                case .string(let s): [s]
                default: []
                }
                var merged = labels
                if !sources.isEmpty { merged["keep_source"] = sources.joined(separator: ",") }
                let fingerprint = try text(alert["fingerprint"], "fingerprint", max: 512) ?? AlertFingerprint.of(labels: merged.merging(["alertname": name]) { a, _ in a })
                let description = try text(alert["description"], "description", max: 20_000)
                let message = try text(alert["message"], "message", max: 20_000)
                return AlertEvent(
                    action: action, fingerprint: fingerprint, severity: SeverityMapping.severity(alert["severity"]?.stringValue),
                    source: .keep, title: name, description: description ?? message ?? "",
                    labels: merged, annotations: [:], service: try text(alert["service"], "service", max: 200) ?? ServiceLabel.from(labels),
                    cluster: labels["cluster"], namespace: labels["namespace"], runbookURL: labels["runbook_url"],
                    generatorURL: try text(alert["url"], "url", max: 2048), firedAt: try time(alert["lastReceived"], "lastReceived") ?? now,
                    agent: nil, actor: "keep")
            }.mapError { $0 as? AlertProblem ?? AlertProblem(message: "\($0)") }
        }
    }

    /// Any JSON with a `title`; `fingerprint`, `severity`, `description`, `labels`, `source`, `status` and `agent_metadata`
    /// are optional. `mapping` renames fields (per API key, from tenant config): `{"title": "summary", ...}`.
    static func generic(_ body: JSONValue, mapping: [String: String], now: Date) throws -> Parsed {
        try oneOrMany(body, "an alert object").map { raw in
            Result {
                guard let alert = raw.objectValue else { throw AlertProblem(message: "an alert must be an object") }
                func field(_ name: String) -> JSONValue? { alert[mapping[name] ?? name] }
                guard let title = try text(field("title"), "title", max: 500), !title.isEmpty else { throw AlertProblem(message: "title is required") }
                let labels = try stringMap(field("labels"), "labels", required: false)
                var agent: AgentMetadata?
                if let rawAgent = field("agent_metadata"), !rawAgent.isNull {
                    do { agent = try JSON.decode(AgentMetadata.self, from: Data(rawAgent.jsonText().utf8)) } catch {
                        throw AlertProblem(message: "agent_metadata: \((error as? APIError)?.message ?? "is invalid")")
                    }
                }
                let status = (try text(field("status"), "status", max: 20) ?? "firing").lowercased()
                let action: AlertEvent.Action
                switch status {
                case "firing", "trigger", "triggered", "open": action = .fire
                case "resolved", "resolve", "closed", "ok": action = .resolve
                case "acknowledged", "acknowledge": action = .acknowledge
                default: throw AlertProblem(message: "status '\(status)' is not firing, acknowledged or resolved")
                }
                let source = try text(field("source"), "source", max: 200) ?? "generic"
                var allLabels = labels
                allLabels["source"] = allLabels["source"] ?? source
                return AlertEvent(
                    action: action,
                    fingerprint: try text(field("fingerprint"), "fingerprint", max: 512) ?? AlertFingerprint.of(labels: allLabels.merging(["title": title]) { a, _ in a }),
                    severity: SeverityMapping.severity(try text(field("severity"), "severity", max: 50)), source: .generic, title: title,
                    description: try text(field("description"), "description", max: 20_000) ?? "", labels: allLabels, annotations: [:],
                    service: try text(field("service"), "service", max: 200) ?? ServiceLabel.from(labels),
                    cluster: try text(field("cluster"), "cluster", max: 200) ?? labels["cluster"],
                    namespace: try text(field("namespace"), "namespace", max: 200) ?? labels["namespace"],
                    runbookURL: try text(field("runbook_url"), "runbook_url", max: 2048), generatorURL: try text(field("url"), "url", max: 2048),
                    firedAt: try time(field("timestamp"), "timestamp") ?? now, agent: agent, actor: "generic:\(source)")
            }.mapError { $0 as? AlertProblem ?? AlertProblem(message: "\($0)") }
        }
    }

    /// A body that is one item or a list of at most 1000.
    static func oneOrMany(_ body: JSONValue, _ what: String) throws -> [JSONValue] {
        switch body {
        case .object: return [body]
        case .array(let list) where list.count <= 1000: return list
        default: throw APIError.validation("the body must be \(what) or a list of at most 1000")
        }
    }

    // MARK: field readers

    static func text(_ value: JSONValue?, _ name: String, max: Int) throws -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)?:
            let trimmed = s.trimmed
            guard trimmed.hasAtMost(max) else { throw AlertProblem(message: "\(name) must be at most \(max) characters") }
            return trimmed.isEmpty ? nil : trimmed
        case .number(let n)?: return n.rounded() == n ? String(Int64(n)) : String(n)
        default: throw AlertProblem(message: "\(name) must be a string")
        }
    }

    static func stringMap(_ value: JSONValue?, _ name: String, required: Bool) throws -> [String: String] {
        switch value {
        case nil, .null?:
            if required { throw AlertProblem(message: "\(name) is required") }
            return [:]
        case .object(let object)?:
            guard object.count <= 100 else { throw AlertProblem(message: "\(name) may hold at most 100 entries") }
            var result: [String: String] = [:]
            for (key, item) in object {
                guard key.hasAtMost(200) else { throw AlertProblem(message: "\(name) keys must be at most 200 characters") }
                switch item {
                case .string(let s): result[key] = s.limited(to: 4000)
                case .number, .bool: result[key] = item.jsonText()
                case .null: continue
                default: throw AlertProblem(message: "\(name).\(key) must be a string")
                }
            }
            return result
        default: throw AlertProblem(message: "\(name) must be an object of strings")
        }
    }

    static func time(_ value: JSONValue?, _ name: String) throws -> Date? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)?:
            guard let date = Timestamp.parse(s) else { throw AlertProblem(message: "\(name) must be an RFC 3339 time") }
            // Alertmanager's "zero time" means unset.
            return date.timeIntervalSince1970 < 0 ? nil : date
        default: throw AlertProblem(message: "\(name) must be an RFC 3339 time")
        }
    }
}
