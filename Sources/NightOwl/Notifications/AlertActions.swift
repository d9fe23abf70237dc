import Foundation
import OwlCore
import PostgresNIO

/// What people do to an alert from outside the API (a keypress, an SMS reply, a Slack button): acknowledge it, which
/// ends its escalation, or escalate it, which makes its next tier due now. Audited as the person who did it.
struct AlertActions {
    let platform: Platform

    enum Action: Sendable, Equatable { case acknowledge, escalate }

    /// Acts on the firing alerts among `ids`; returns how many changed.
    func perform(_ action: Action, _ ids: [UUID], actorType: String, by actor: String, tenant: Tenant, context: OwlRequestContext) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let store = AlertStore(logger: platform.logger)
        let changed = try await platform.database.withTenant(tenant.slug, actor: actor) { connection -> [UUID] in
            var changed: [UUID] = []
            for id in ids {
                switch action {
                case .acknowledge:
                    if try await store.acknowledge(id, by: actor, on: connection) != nil { changed.append(id) }
                case .escalate:
                    let rows = try await connection.query("""
                        UPDATE escalation_state e SET next_at = now() FROM alerts a
                        WHERE e.alert_id = \(id) AND a.id = e.alert_id AND a.status = 'firing' AND e.finished_at IS NULL RETURNING e.alert_id
                        """, logger: platform.logger)
                    for try await _ in rows { changed.append(id) }
                }
            }
            try await store.notify(tenant: tenant.slug, event: action == .acknowledge ? "acknowledged" : "escalated", ids: changed, on: connection)
            return changed
        }
        for id in changed {
            await platform.audit.record(AuditEntry(actor: actor, actorType: actorType, action: action == .acknowledge ? "alert.acknowledge" : "alert.escalate",
                                                   resource: "alert", resourceID: id.uuidString, diff: nil, requestID: context.requestID,
                                                   ipAddress: context.remoteAddress), tenant: tenant.slug)
        }
        return changed.count
    }
}
