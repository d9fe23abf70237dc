import Foundation

/// One mutation: who did what to which resource, and what changed.
public struct AuditEntry: Sendable, Codable, Equatable {
    public var id: UUID
    public var actor: String
    public var actorType: String
    public var action: String
    public var resource: String
    public var resourceID: String?
    public var diff: JSONValue?
    public var requestID: String?
    public var ipAddress: String?
    public var createdAt: Date

    public init(id: UUID = .random(), actor: String, actorType: String, action: String, resource: String, resourceID: String?,
                diff: JSONValue?, requestID: String?, ipAddress: String?, createdAt: Date) {
        self.id = id
        self.actor = actor
        self.actorType = actorType
        self.action = action
        self.resource = resource
        // Ids are written lower-case everywhere (the API's and the events' form), so one search finds them all.
        self.resourceID = resourceID.map { UUID(uuidString: $0) != nil ? $0.lowercased() : $0 }
        self.diff = diff
        self.requestID = requestID
        self.ipAddress = ipAddress
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, actor, action, resource, diff
        case actorType = "actor_type", resourceID = "resource_id", requestID = "request_id"
        case ipAddress = "ip_address", createdAt = "created_at"
    }
}

/// Field-by-field differences, as `{"field": {"old": …, "new": …}}`.
public enum AuditDiff {
    public static func between<T: Encodable>(_ before: T, _ after: T, ignoring: Set<String> = ["updated_at"]) -> JSONValue {
        let old = JSONValue.from(before).objectValue ?? [:]
        let new = JSONValue.from(after).objectValue ?? [:]
        var diff: [String: JSONValue] = [:]
        for key in Set(old.keys).union(new.keys) where !ignoring.contains(key) && old[key] != new[key] {
            diff[key] = .object(["old": old[key] ?? .null, "new": new[key] ?? .null])
        }
        return .object(diff)
    }
}
