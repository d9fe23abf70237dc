import Foundation
import OwlCore

/// A knowledge-base entry: a known incident, how to recognise it and how it was solved.
public struct Incident: Codable, Sendable, Equatable {
    public var id: UUID
    public var title: String
    public var fingerprints: [String]
    public var severity: Severity
    public var category: String
    public var services: [String]
    public var clusters: [String]
    public var namespaces: [String]
    public var tags: [String]
    public var symptoms: String
    public var errorPatterns: [String]
    public var rootCause: String
    public var solution: String
    public var runbookID: UUID?
    public var createdBy: String
    public var resolutionCount: Int
    public var lastSeenAt: Date?
    public var mergedIntoID: UUID?
    public var mergedFromIDs: [UUID]
    public var archivedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, title, fingerprints, severity, category, services, clusters, namespaces, tags, symptoms, solution
        case errorPatterns = "error_patterns", rootCause = "root_cause", runbookID = "runbook_id", createdBy = "created_by"
        case resolutionCount = "resolution_count", lastSeenAt = "last_seen_at", mergedIntoID = "merged_into_id"
        case mergedFromIDs = "merged_from_ids", archivedAt = "archived_at", createdAt = "created_at", updatedAt = "updated_at"
    }
}

extension Incident: JSONObjectWritable {
    public func writeMembers(into object: inout JSONObjectWriter) {
        object.uuid("id", id)
        object.string("title", title)
        object.strings("fingerprints", fingerprints)
        object.string("severity", severity.rawValue)
        object.string("category", category)
        object.strings("services", services)
        object.strings("clusters", clusters)
        object.strings("namespaces", namespaces)
        object.strings("tags", tags)
        object.string("symptoms", symptoms)
        object.strings("error_patterns", errorPatterns)
        object.string("root_cause", rootCause)
        object.string("solution", solution)
        object.uuid("runbook_id", runbookID)
        object.string("created_by", createdBy)
        object.int("resolution_count", resolutionCount)
        object.date("last_seen_at", lastSeenAt)
        object.uuid("merged_into_id", mergedIntoID)
        object.uuids("merged_from_ids", mergedFromIDs)
        object.date("archived_at", archivedAt)
        object.date("created_at", createdAt)
        object.date("updated_at", updatedAt)
    }
}

/// An incident with its linked runbook, as `GET /api/v1/incidents/{id}` shows it.
typealias IncidentDetail = Flattened<Incident, [String: Runbook?]>

extension IncidentDetail {
    init(incident: Incident, runbook: Runbook?) { self.init(incident, ["runbook": runbook]) }
}

/// Body of `POST /api/v1/incidents` (title and severity required) and `PUT /api/v1/incidents/{id}` (fields present change).
struct IncidentInput: Decodable {
    var title: String?
    var fingerprints: [String]?
    var severity: Severity?
    var category: String?
    var services: [String]?
    var clusters: [String]?
    var namespaces: [String]?
    var tags: [String]?
    var symptoms: String?
    var errorPatterns: [String]?
    var rootCause: String?
    var solution: String?
    var runbookID: UUID?
    /// Distinguishes `"runbook_id": null` (unlink) from a missing key (keep).
    var clearsRunbook = false

    enum CodingKeys: String, CodingKey {
        case title, fingerprints, severity, category, services, clusters, namespaces, tags, symptoms, solution
        case errorPatterns = "error_patterns", rootCause = "root_cause", runbookID = "runbook_id"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        title = try c.decodeIfPresent(String.self, forKey: .title)
        fingerprints = try c.decodeIfPresent([String].self, forKey: .fingerprints)
        severity = try c.decodeIfPresent(Severity.self, forKey: .severity)
        category = try c.decodeIfPresent(String.self, forKey: .category)
        services = try c.decodeIfPresent([String].self, forKey: .services)
        clusters = try c.decodeIfPresent([String].self, forKey: .clusters)
        namespaces = try c.decodeIfPresent([String].self, forKey: .namespaces)
        tags = try c.decodeIfPresent([String].self, forKey: .tags)
        symptoms = try c.decodeIfPresent(String.self, forKey: .symptoms)
        errorPatterns = try c.decodeIfPresent([String].self, forKey: .errorPatterns)
        rootCause = try c.decodeIfPresent(String.self, forKey: .rootCause)
        solution = try c.decodeIfPresent(String.self, forKey: .solution)
        runbookID = try c.decodeIfPresent(UUID.self, forKey: .runbookID)
        clearsRunbook = c.contains(.runbookID) && runbookID == nil
    }

    init() {}

    /// Trims and bounds every field; a create needs a title and a severity.
    func validated(creating: Bool) throws -> IncidentInput {
        if creating {
            guard title != nil else { throw APIError.validation("title is required", field: "title") }
            guard severity != nil else { throw APIError.validation("severity is required", field: "severity") }
        }
        var copy = self
        copy.title = try title.map { try Field.requiredText($0, "title", max: 500) }
        copy.fingerprints = try fingerprints.map { try Field.list($0, "fingerprints", maxItems: 200, maxLength: 512) }
        copy.category = try category.map { try Field.optionalText($0, "category", max: 100) }
        copy.services = try services.map { try Field.list($0, "services") }
        copy.clusters = try clusters.map { try Field.list($0, "clusters") }
        copy.namespaces = try namespaces.map { try Field.list($0, "namespaces") }
        copy.tags = try tags.map { try Field.list($0, "tags", maxItems: 50, maxLength: 100) }
        copy.symptoms = try symptoms.map { try Field.optionalText($0, "symptoms", max: 20_000) }
        copy.errorPatterns = try errorPatterns.map { try Field.list($0, "error_patterns", maxItems: 50, maxLength: 1000) }
        copy.rootCause = try rootCause.map { try Field.optionalText($0, "root_cause", max: 20_000) }
        copy.solution = try solution.map { try Field.optionalText($0, "solution", max: 20_000) }
        return copy
    }
}

/// Body of `POST /api/v1/incidents/{id}/merge`: the entry named in the path absorbs `source_id`.
struct MergeRequest: Decodable {
    var sourceID: UUID
    enum CodingKeys: String, CodingKey { case sourceID = "source_id" }
}

/// What a merge writes to the surviving entry. Pure, so the rule is tested with tables.
struct IncidentMerge: Equatable {
    var fingerprints: [String]
    var services: [String]
    var clusters: [String]
    var namespaces: [String]
    var tags: [String]
    var errorPatterns: [String]
    var symptoms: String
    var rootCause: String
    var solution: String
    var runbookID: UUID?
    var severity: Severity
    var resolutionCount: Int
    var lastSeenAt: Date?
    var mergedFromIDs: [UUID]

    /// Lists are unioned (target's order first). The better solution is the one that has resolved more alerts
    /// (`resolution_count`); on a tie the target's is kept; an empty text never wins over a written one. Root cause
    /// and symptoms follow the same rule, the runbook link is kept unless the target has none, the severity is the
    /// higher of the two, counts add up and the latest sighting wins.
    static func merge(target: Incident, source: Incident) -> IncidentMerge {
        func union<T: Hashable>(_ a: [T], _ b: [T]) -> [T] { a + b.filter { !Set(a).contains($0) } }
        let sourceIsBetter = source.resolutionCount > target.resolutionCount
        func pick(_ t: String, _ s: String) -> String {
            if t.isEmpty { return s }
            if s.isEmpty { return t }
            return sourceIsBetter ? s : t
        }
        return IncidentMerge(
            fingerprints: union(target.fingerprints, source.fingerprints),
            services: union(target.services, source.services),
            clusters: union(target.clusters, source.clusters),
            namespaces: union(target.namespaces, source.namespaces),
            tags: union(target.tags, source.tags),
            errorPatterns: union(target.errorPatterns, source.errorPatterns),
            symptoms: pick(target.symptoms, source.symptoms),
            rootCause: pick(target.rootCause, source.rootCause),
            solution: pick(target.solution, source.solution),
            runbookID: target.runbookID ?? source.runbookID,
            severity: max(target.severity, source.severity),
            resolutionCount: target.resolutionCount + source.resolutionCount,
            lastSeenAt: [target.lastSeenAt, source.lastSeenAt].compactMap { $0 }.max(),
            mergedFromIDs: union(target.mergedFromIDs, [source.id] + source.mergedFromIDs))
    }
}

/// One entry of an incident's history, written by the database trigger.
struct IncidentHistoryEntry: Encodable {
    var id: UUID
    var changeType: String
    var changedBy: String
    var diff: JSONValue
    var createdAt: Date
    enum CodingKeys: String, CodingKey { case id, diff, changeType = "change_type", changedBy = "changed_by", createdAt = "created_at" }
}
