import Foundation
import OwlCore

/// What alerts belong to, and what a roster (and an escalation policy) covers.
public struct MonitoredService: Sendable, Equatable, Encodable {
    public var id: UUID
    public var name: String
    public var description: String
    public var cluster: String?
    public var namespace: String?
    public var rosterID: UUID?
    public var escalationPolicyID: UUID?
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, description, cluster, namespace
        case rosterID = "roster_id", escalationPolicyID = "escalation_policy_id", createdAt = "created_at", updatedAt = "updated_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(description, forKey: .description)
        try c.encode(cluster, forKey: .cluster)
        try c.encode(namespace, forKey: .namespace)
        try c.encode(rosterID, forKey: .rosterID)
        try c.encode(escalationPolicyID, forKey: .escalationPolicyID)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}

/// Body of `POST /api/v1/services` and `PUT /api/v1/services/{id}` (on PUT, fields present are changed; `null` clears).
struct ServiceInput: Decodable, Sendable {
    var name: String?
    var description: String?
    var cluster: Patch<String> = .keep
    var namespace: Patch<String> = .keep
    var rosterID: Patch<UUID> = .keep
    var escalationPolicyID: Patch<UUID> = .keep

    enum CodingKeys: String, CodingKey {
        case name, description, cluster, namespace, rosterID = "roster_id", escalationPolicyID = "escalation_policy_id"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        cluster = try Patch(c, .cluster)
        namespace = try Patch(c, .namespace)
        rosterID = try Patch(c, .rosterID)
        escalationPolicyID = try Patch(c, .escalationPolicyID)
    }

    /// The service after applying this input to `current` (or to nothing, when creating).
    func applied(to current: MonitoredService?) throws -> ServiceFields {
        guard let name = try name.map({ try Field.requiredText($0, "name", max: 200) }) ?? current?.name else {
            throw APIError.validation("name is required", field: "name")
        }
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw APIError.validation("name may hold letters, digits, '-', '_' and '.'", field: "name")
        }
        return ServiceFields(name: name,
                             description: try description.map { try Field.optionalText($0, "description", max: 2_000) } ?? current?.description ?? "",
                             cluster: try cluster.map { try Field.requiredText($0, "cluster", max: 200) }.applied(to: current?.cluster),
                             namespace: try namespace.map { try Field.requiredText($0, "namespace", max: 200) }.applied(to: current?.namespace),
                             rosterID: rosterID.applied(to: current?.rosterID),
                             escalationPolicyID: escalationPolicyID.applied(to: current?.escalationPolicyID))
    }
}

/// A service's fields after validation: what the store writes.
struct ServiceFields: Sendable {
    var name: String
    var description: String
    var cluster: String?
    var namespace: String?
    var rosterID: UUID?
    var escalationPolicyID: UUID?
}
