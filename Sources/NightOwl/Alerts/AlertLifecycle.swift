import Foundation
import OwlCore
import PostgresNIO

/// Acknowledging, resolving and taking an acknowledgement back, for the API and the console alike: each change in one
/// transaction with its consequences (the escalation ends or goes on, unsent messages are cancelled, listeners are
/// told), and audited once it is committed.
struct AlertLifecycle {
    let platform: Platform
    var store: AlertStore { AlertStore(logger: platform.logger) }

    struct Outcome {
        var changed: Bool
        var alert: Alert
        /// Whether the knowledge base knows the alert (asked on resolution only).
        var known: Bool?
    }

    /// Acknowledges a firing alert; nil when there is no such alert.
    func acknowledge(_ id: UUID, _ principal: Principal, _ context: OwlRequestContext) async throws -> Outcome? {
        let outcome = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection -> Outcome? in
            if let alert = try await store.acknowledge(id, by: principal.actor, on: connection) {
                try await store.notify(tenant: principal.tenant.slug, event: "acknowledged", ids: [id], on: connection)
                return Outcome(changed: true, alert: alert)
            }
            return try await store.get(id, on: connection).map { Outcome(changed: false, alert: $0) }
        }
        if outcome?.changed == true { await platform.audit(context, principal, action: "alert.acknowledge", resource: "alert", id: id.uuidString) }
        return outcome
    }

    /// Resolves an open alert with optional notes, and says whether the knowledge base knows it.
    func resolve(_ id: UUID, notes: String?, _ principal: Principal, _ context: OwlRequestContext) async throws -> Outcome? {
        let outcome = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection -> Outcome? in
            var changed = true
            var alert = try await store.resolve(id, by: principal.actor, notes: notes, on: connection)
            if alert != nil {
                try await store.notify(tenant: principal.tenant.slug, event: "resolved", ids: [id], on: connection)
            } else {
                changed = false
                alert = try await store.get(id, on: connection)
            }
            guard let alert else { return nil }
            return Outcome(changed: changed, alert: alert, known: try await store.isKnown(alert, on: connection))
        }
        if outcome?.changed == true {
            await platform.audit(context, principal, action: "alert.resolve", resource: "alert", id: id.uuidString,
                                 diff: notes.map { .object(["notes": .string($0)]) })
        }
        return outcome
    }

    /// Takes an acknowledgement back (the console's undo): the alert fires again and its escalation goes on.
    func unacknowledge(_ id: UUID, _ principal: Principal, _ context: OwlRequestContext) async throws -> Outcome? {
        let outcome = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection -> Outcome? in
            if let alert = try await store.unacknowledge(id, on: connection) {
                try await store.notify(tenant: principal.tenant.slug, event: "unacknowledged", ids: [id], on: connection)
                return Outcome(changed: true, alert: alert)
            }
            return try await store.get(id, on: connection).map { Outcome(changed: false, alert: $0) }
        }
        if outcome?.changed == true { await platform.audit(context, principal, action: "alert.unacknowledge", resource: "alert", id: id.uuidString) }
        return outcome
    }
}
