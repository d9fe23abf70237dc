import Foundation
import OwlCore

public enum AlertStatus: String, StrictEnum {
    case firing, acknowledged, resolved
}

public enum AlertSource: String, StrictEnum {
    case alertmanager, keep, generic, pagerduty
}

/// What an AI agent or automation says it did about an alert.
public struct AgentMetadata: Codable, Sendable, Equatable {
    public var agentID: String
    public var actionTaken: String?
    public var actionResult: String?
    public var autoResolved: Bool
    public var confidence: Double?

    enum CodingKeys: String, CodingKey {
        case confidence
        case agentID = "agent_id", actionTaken = "action_taken", actionResult = "action_result", autoResolved = "auto_resolved"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        agentID = try c.decode(String.self, forKey: .agentID)
        actionTaken = try c.decodeIfPresent(String.self, forKey: .actionTaken)
        actionResult = try c.decodeIfPresent(String.self, forKey: .actionResult)
        autoResolved = try c.decodeIfPresent(Bool.self, forKey: .autoResolved) ?? false
        confidence = try c.decodeIfPresent(Double.self, forKey: .confidence)
        if let confidence, !(0...1).contains(confidence) {
            throw DecodingError.dataCorruptedError(forKey: .confidence, in: c, debugDescription: "confidence must be between 0 and 1")
        }
    }
}

/// One event from any source, normalised. `action` says what the event asks for.
public struct AlertEvent: Sendable {
    public enum Action: String, Sendable { case fire, acknowledge, resolve }
    public var action: Action
    public var fingerprint: String
    public var severity: Severity
    public var source: AlertSource
    public var title: String
    public var description: String
    public var labels: [String: String]
    public var annotations: [String: String]
    public var service: String?
    public var cluster: String?
    public var namespace: String?
    public var runbookURL: String?
    public var generatorURL: String?
    public var firedAt: Date
    public var agent: AgentMetadata?
    /// Who sent an acknowledge or resolve (`pagerduty:<source>`, `alertmanager`).
    public var actor: String
}

/// The stored alert, as the API shows it.
public struct Alert: Codable, Sendable {
    public var id: UUID
    public var fingerprint: String
    public var status: AlertStatus
    public var severity: Severity
    public var source: String
    public var title: String
    public var description: String
    public var labels: JSONValue
    public var annotations: JSONValue
    public var service: String?
    public var cluster: String?
    public var namespace: String?
    public var runbookURL: String?
    public var generatorURL: String?
    public var occurrenceCount: Int
    public var firstFiredAt: Date
    public var lastFiredAt: Date
    public var acknowledgedBy: String?
    public var acknowledgedAt: Date?
    public var resolvedBy: String?
    public var resolvedAt: Date?
    public var resolutionNotes: String?
    public var matchedIncidentID: UUID?
    public var suggestedSolution: String?
    public var enrichmentSource: String?
    public var agentMetadata: JSONValue?
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, fingerprint, status, severity, source, title, description, labels, annotations, service, cluster, namespace
        case runbookURL = "runbook_url", generatorURL = "generator_url", occurrenceCount = "occurrence_count"
        case firstFiredAt = "first_fired_at", lastFiredAt = "last_fired_at", acknowledgedBy = "acknowledged_by"
        case acknowledgedAt = "acknowledged_at", resolvedBy = "resolved_by", resolvedAt = "resolved_at"
        case resolutionNotes = "resolution_notes", matchedIncidentID = "matched_incident_id"
        case suggestedSolution = "suggested_solution", enrichmentSource = "enrichment_source"
        case agentMetadata = "agent_metadata", createdAt = "created_at"
    }
}

/// The fate of one event of a webhook, reported per alert in the response.
public struct AlertOutcome: Encodable, Sendable {
    public enum Result: String, Encodable, Sendable { case created, deduplicated, acknowledged, resolved, ignored, rejected }
    public var index: Int
    public var result: Result
    public var alertID: UUID?
    public var fingerprint: String?
    public var error: String?

    enum CodingKeys: String, CodingKey { case index, result, fingerprint, error, alertID = "alert_id" }
}

extension AlertOutcome {
    /// The object as JSONEncoder writes it (members in sorted key order), straight into `out`: one per alert of
    /// every webhook answer.
    func writeJSON(into out: inout String) {
        out += "{"
        if let alertID {
            out += "\"alert_id\":\""
            out += alertID.text()
            out += "\","
        }
        if let error {
            out += "\"error\":"
            JSONObjectWriter.writeString(error, into: &out)
            out += ","
        }
        if let fingerprint {
            out += "\"fingerprint\":"
            JSONObjectWriter.writeString(fingerprint, into: &out)
            out += ","
        }
        out += "\"index\":"
        out += String(index)
        out += ",\"result\":\""
        out += result.rawValue
        out += "\"}"
    }
}
