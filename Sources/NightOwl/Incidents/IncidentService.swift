import Foundation
import OwlCore
import PostgresNIO

/// Writing the knowledge base, for the API and the console alike: each change in one transaction (the history trigger
/// records it), audited once committed. Merged entries cannot change; a merge locks both entries in id order.
struct IncidentService {
    let platform: Platform
    var store: IncidentStore { IncidentStore(logger: platform.logger) }

    /// Creates an entry from a checked input.
    func create(_ input: IncidentInput, _ principal: Principal, _ context: OwlRequestContext) async throws -> Incident {
        let incident = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) {
            try await store.create(input, by: principal.actor, on: $0)
        }
        await platform.audit(context, principal, action: "incident.create", resource: "incident", id: incident.id.uuidString,
                             diff: .object(["title": .string(incident.title)]))
        return incident
    }

    /// Changes the fields present; nil when there is no such entry.
    func update(_ id: UUID, _ input: IncidentInput, _ principal: Principal, _ context: OwlRequestContext) async throws -> Incident? {
        let result = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection -> (Incident, Incident)? in
            guard let before = try await store.get(id, lock: true, on: connection) else { return nil }
            if let survivor = before.mergedIntoID {
                throw APIError.conflict("this entry was merged into \(survivor.uuidString.lowercased()); edit that one")
            }
            guard let after = try await store.update(id, input, on: connection) else { return nil }
            return (before, after)
        }
        guard let (before, after) = result else { return nil }
        await platform.audit(context, principal, action: "incident.update", resource: "incident", id: id.uuidString,
                             diff: AuditDiff.between(before, after))
        return after
    }

    /// Archives an entry: it leaves lists and search and stays readable by id; nil when there is no such live entry.
    func archive(_ id: UUID, _ principal: Principal, _ context: OwlRequestContext) async throws -> Incident? {
        guard let incident = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor, {
            try await store.archive(id, on: $0)
        }) else { return nil }
        await platform.audit(context, principal, action: "incident.archive", resource: "incident", id: id.uuidString)
        return incident
    }

    struct MergeResult: Encodable {
        var target: Incident
        var sourceID: UUID
        var alertsRepointed: Int
        enum CodingKeys: String, CodingKey { case target, sourceID = "source_id", alertsRepointed = "alerts_repointed" }
    }

    /// Merges `source` into `target` in one transaction (see `IncidentMerge` for the rule).
    func merge(_ source: UUID, into target: UUID, _ principal: Principal, _ context: OwlRequestContext) async throws -> MergeResult {
        guard source != target else { throw APIError.validation("an entry cannot be merged into itself", field: "source_id") }
        let result = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection -> MergeResult in
            // Lock both rows in id order, so that two opposite merges cannot deadlock.
            var locked: [UUID: Incident] = [:]
            for id in [target, source].sorted(by: { $0.uuidString < $1.uuidString }) {
                if let incident = try await store.get(id, lock: true, on: connection) { locked[id] = incident }
            }
            let (targetEntry, sourceEntry) = try Self.mergeable(target: locked[target], source: locked[source])
            let merged = IncidentMerge.merge(target: targetEntry, source: sourceEntry)
            let moved = try await store.applyMerge(merged, target: target, source: source, on: connection)
            guard let updated = try await store.get(target, on: connection) else { throw APIError.notFound("incident") }
            return MergeResult(target: updated, sourceID: source, alertsRepointed: moved)
        }
        await platform.audit(context, principal, action: "incident.merge", resource: "incident", id: target.uuidString,
                             diff: .object(["source_id": .string(source.uuidString.lowercased()),
                                            "alerts_repointed": .number(Double(result.alertsRepointed))]))
        return result
    }

    /// The two entries of a merge, or why they cannot be merged (shared by the merge and its preview).
    static func mergeable(target: Incident?, source: Incident?) throws -> (Incident, Incident) {
        guard let target else { throw APIError.notFound("incident") }
        guard let source else { throw APIError.validation("source_id names no incident", field: "source_id") }
        guard target.mergedIntoID == nil else { throw APIError.conflict("the target was itself merged into another entry") }
        guard source.mergedIntoID == nil else { throw APIError.conflict("the source was already merged") }
        return (target, source)
    }
}
