import Foundation
import OwlCore
import PostgresNIO

/// Recording what fixed an alert as a knowledge-base entry, from Slack's modal or the console's form alike: the entry
/// lists the alert's fingerprint (so the next firing is enriched with it), counts this resolution, and the alert's
/// Slack messages are followed up (no more "Add to Knowledge Base") with a note in their thread.
struct AlertKnowledge {
    let platform: Platform
    var store: IncidentStore { IncidentStore(logger: platform.logger) }

    /// The live entry that knows this alert: the one it matched, or one that lists its fingerprint.
    func knownEntry(_ alert: Alert, on connection: PostgresConnection) async throws -> Incident? {
        if let matched = alert.matchedIncidentID, let incident = try await store.get(matched, on: connection),
           incident.mergedIntoID == nil, incident.archivedAt == nil {
            return incident
        }
        return try await store.byFingerprint(alert.fingerprint, on: connection)
    }

    /// The entry a person describes for `alert`, with the alert's fingerprint and where it ran.
    static func input(for alert: Alert, title: String, severity: Severity?, symptoms: String?, rootCause: String?, solution: String) -> IncidentInput {
        var input = IncidentInput()
        input.title = title
        input.severity = severity
        input.symptoms = symptoms
        input.rootCause = rootCause
        input.solution = solution
        input.fingerprints = [alert.fingerprint]
        input.services = alert.service.map { [$0] } ?? []
        input.clusters = alert.cluster.map { [$0] } ?? []
        input.namespaces = alert.namespace.map { [$0] } ?? []
        return input
    }

    struct Problems: Error, Equatable {
        var byField: [String: String]
    }

    /// The fields a person fills in, by name: where a problem is shown.
    static let fields = ["title", "severity", "symptoms", "root_cause", "solution"]

    /// `input` checked as an entry, or the problems by field: a severity and a solution are needed (the solution is
    /// what the next person paged will read).
    static func check(_ input: IncidentInput) -> Result<IncidentInput, Problems> {
        var errors: [String: String] = [:]
        if input.severity == nil { errors["severity"] = "Choose a severity." }
        if (input.solution ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            errors["solution"] = "Say what fixed it: that is what the next person paged for this will read."
        }
        do {
            // An empty title fails here too (a present title must not be empty).
            let checked = try input.validated(creating: false)
            return errors.isEmpty ? .success(checked) : .failure(Problems(byField: errors))
        } catch let error as APIError {
            let field = error.details?.objectValue?["field"]?.stringValue
            errors[fields.contains(field ?? "") ? field! : "title"] = error.message
            return .failure(Problems(byField: errors))
        } catch {
            return .failure(Problems(byField: ["title": "\(error)"]))
        }
    }

    /// Stores a checked `input` as the entry for `alert` (`source`: where it was written, `slack` or `console`).
    func record(_ input: IncidentInput, for alert: Alert, by actor: String, source: String, on connection: PostgresConnection) async throws -> Incident {
        let incident = try await store.create(input, by: actor, on: connection)
        // The alert was fixed this way once already.
        try await connection.query("""
            UPDATE incidents SET resolution_count = 1, last_seen_at = \(alert.resolvedAt ?? alert.lastFiredAt)
            WHERE id = \(incident.id) AND \(alert.status == .resolved)
            """, logger: platform.logger)
        try await connection.query("""
            UPDATE alerts SET matched_incident_id = \(incident.id), suggested_solution = NULLIF(\(incident.solution), ''),
                enrichment_source = \(source) WHERE id = \(alert.id)
            """, logger: platform.logger)
        try await connection.query("SELECT slack_follow_up(\(alert.id))", logger: platform.logger)
        let note = SlackThreadNote(event: .known, at: platform.clock.now, entry: incident.title).json.jsonText()
        try await connection.query("""
            SELECT slack_thread_note(\(alert.id), \(note)::jsonb || jsonb_build_object('by', slack_actor(\(actor))), 'known')
            """, logger: platform.logger)
        return incident
    }
}
