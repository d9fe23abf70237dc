import Foundation
import OwlCore
import PostgresNIO

/// What people do to an alert from outside the API (a keypress, an SMS reply, a Slack button or command): acknowledge
/// or resolve it, which ends its escalation, or escalate it, which makes its next tier due now. Audited as the person
/// who did it.
struct AlertActions {
    let platform: Platform

    enum Action: Sendable, Equatable {
        case acknowledge, escalate
        case resolve(notes: String?)

        var event: String {
            switch self {
            case .acknowledge: "acknowledged"
            case .escalate: "escalated"
            case .resolve: "resolved"
            }
        }

        var auditAction: String {
            switch self {
            case .acknowledge: "alert.acknowledge"
            case .escalate: "alert.escalate"
            case .resolve: "alert.resolve"
            }
        }
    }

    /// Acts on the alerts among `ids` that the action applies to (firing ones; any open one to resolve); returns how
    /// many changed.
    func perform(_ action: Action, _ ids: [UUID], actorType: String, by actor: String, tenant: Tenant, context: OwlRequestContext) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let store = AlertStore(logger: platform.logger)
        let changed = try await platform.database.withTenant(tenant.slug, actor: actor) { connection -> [UUID] in
            var changed: [UUID] = []
            for id in ids {
                switch action {
                case .acknowledge:
                    if try await store.acknowledge(id, by: actor, on: connection) != nil { changed.append(id) }
                case .resolve(let notes):
                    if try await store.resolve(id, by: actor, notes: notes, on: connection) != nil { changed.append(id) }
                case .escalate:
                    let rows = try await connection.query("""
                        UPDATE escalation_state e SET next_at = now(), requested_by = \(actor) FROM alerts a
                        WHERE e.alert_id = \(id) AND a.id = e.alert_id AND a.status = 'firing' AND e.finished_at IS NULL RETURNING e.alert_id
                        """, logger: platform.logger)
                    for try await _ in rows { changed.append(id) }
                }
            }
            try await store.notify(tenant: tenant.slug, event: action.event, ids: changed, on: connection)
            return changed
        }
        for id in changed {
            var diff: JSONValue?
            if case .resolve(let notes?) = action { diff = .object(["notes": .string(notes)]) }
            await platform.audit.record(AuditEntry(actor: actor, actorType: actorType, action: action.auditAction,
                                                   resource: "alert", resourceID: id.uuidString, diff: diff, requestID: context.requestID,
                                                   ipAddress: context.remoteAddress, createdAt: platform.clock.now), tenant: tenant.slug)
        }
        return changed.count
    }
}
