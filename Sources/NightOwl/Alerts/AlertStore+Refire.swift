import Foundation
import OwlCore
import PostgresNIO

extension AlertStore {
    /// The common case of ingestion in one call, and so one round trip: a batch whose every event repeats an alert that
    /// is already open. All or nothing: returns fingerprint → alert id for every fingerprint of the batch, or nothing
    /// when any of them has no open alert (the caller then stores the batch in a transaction); it throws SQLSTATE OW001,
    /// having changed nothing, when one of them was resolved while the call ran.
    ///
    /// The work is the tenant schema's `alerts_refire` function (migrations 0009 and 0013), called on its own
    /// (autocommit) and named with its schema, not through `search_path`, so nothing outlives the call on the pooled
    /// connection.
    func refire(_ events: [AlertEvent], tenant: TenantSlug, on connection: PostgresConnection) async throws -> [String: UUID] {
        let rows = AlertFold.fold(events).sorted { $0.event.fingerprint < $1.event.fingerprint }
        guard !rows.isEmpty else { return [:] }
        let result = try await connection.query("""
            SELECT alert_id, alert_fingerprint FROM \(unescaped: tenant.quotedSchema).alerts_refire(
                \(rows.map(\.event.fingerprint)), \(rows.map(\.count)), \(rows.map(\.last)), \(rows.map(\.event.severity.rawValue)),
                \(rows.map(\.event.title)), \(rows.map(\.event.description)), \(rows.map { JSONText.object($0.event.labels) }),
                \(rows.map { JSONText.object($0.event.annotations) }), \(rows.map { $0.event.agent.map { JSONValue.from($0).jsonText() } ?? "" }))
            """, logger: logger)
        var counted: [String: UUID] = [:]
        for try await (id, fingerprint) in result.decode((UUID, String).self) { counted[fingerprint] = id }
        return counted.count == rows.count ? counted : [:]
    }
}

/// Events of one batch folded per fingerprint, in arrival order of first sight: one statement cannot change a row twice.
struct AlertFold {
    var event: AlertEvent
    var count: Int
    var first: Date
    var last: Date

    /// The latest event of each fingerprint, with how many there were and when the first and last fired.
    static func fold(_ events: [AlertEvent]) -> [AlertFold] {
        var folded: [String: AlertFold] = [:]
        var order: [String] = []
        for event in events {
            if var existing = folded[event.fingerprint] {
                existing.count += 1
                existing.first = min(existing.first, event.firedAt)
                existing.last = max(existing.last, event.firedAt)
                existing.event = event
                folded[event.fingerprint] = existing
            } else {
                folded[event.fingerprint] = AlertFold(event: event, count: 1, first: event.firedAt, last: event.firedAt)
                order.append(event.fingerprint)
            }
        }
        return order.compactMap { folded[$0] }
    }
}
