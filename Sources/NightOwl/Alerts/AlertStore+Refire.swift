import Foundation
import OwlCore
import PostgresNIO

extension AlertStore {
    /// The common case of ingestion in one call, and so one round trip: a batch whose every event repeats an alert that
    /// is already open. All or nothing: returns fingerprint → alert id for every fingerprint of the batch, or nothing
    /// when any of them has no open alert, having changed nothing (the caller then stores the batch in a transaction).
    ///
    /// The work is `public.alerts_refire` (global migration 0002), called on its own (autocommit) as a statement that
    /// stays prepared on the connection; it sets the tenant's search_path for its own duration only.
    func refire(_ events: [AlertEvent], tenant: TenantSlug, on connection: PostgresConnection) async throws -> [String: UUID] {
        let rows = AlertFold.fold(events).sorted { $0.event.fingerprint < $1.event.fingerprint }
        guard !rows.isEmpty else { return [:] }
        var counted: [String: UUID] = [:]
        do {
            for try await (id, fingerprint) in try await connection.execute(AlertRefireStatement(schema: tenant.schemaName, rows: rows), logger: logger) {
                counted[fingerprint] = id
            }
        } catch where PostgresErrorCode.code(of: error) == "OW001" {
            return [:]
        }
        // Every row the call returns was counted and committed, so all of them are reported (the function raises
        // OW001 rather than change fewer rows than asked): dropping a partial answer would count its alerts twice.
        return counted
    }
}

/// The call of `public.alerts_refire`; one text for every tenant, so that it is prepared once per connection. Public so
/// that `owl bench ingest --floor` times exactly what a group commit sends.
public struct AlertRefireStatement: PostgresPreparedStatement {
    public static let name = "nightowl_alerts_refire"
    public static let sql = "SELECT alert_id, alert_fingerprint FROM public.alerts_refire($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    public typealias Row = (UUID, String)

    /// One entry per alert, in fingerprint order (the order the rows are locked in); labels and annotations as JSON
    /// objects, the agent's metadata as a JSON object or "".
    public struct Columns: Sendable {
        public var fingerprints: [String] = []
        public var counts: [Int] = []
        public var lastFired: [Date] = []
        public var severities: [String] = []
        public var titles: [String] = []
        public var descriptions: [String] = []
        public var labels: [String] = []
        public var annotations: [String] = []
        public var agents: [String] = []

        public init() {}
    }

    let schema: String
    let columns: Columns

    public init(schema: String, columns: Columns) {
        self.schema = schema
        self.columns = columns
    }

    init(schema: String, rows: [AlertFold]) {
        var columns = Columns()
        for row in rows {
            columns.fingerprints.append(row.event.fingerprint)
            columns.counts.append(row.count)
            columns.lastFired.append(row.last)
            columns.severities.append(row.event.severity.rawValue)
            columns.titles.append(row.event.title)
            columns.descriptions.append(row.event.description)
            columns.labels.append(JSONText.object(row.event.labels))
            columns.annotations.append(JSONText.object(row.event.annotations))
            columns.agents.append(row.event.agent.map { JSONValue.from($0).jsonText() } ?? "")
        }
        self.init(schema: schema, columns: columns)
    }

    public func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 10)
        bindings.append(schema)
        bindings.append(columns.fingerprints)
        bindings.append(columns.counts)
        bindings.append(columns.lastFired)
        bindings.append(columns.severities)
        bindings.append(columns.titles)
        bindings.append(columns.descriptions)
        bindings.append(columns.labels)
        bindings.append(columns.annotations)
        bindings.append(columns.agents)
        return bindings
    }

    public func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
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
