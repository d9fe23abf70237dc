import Foundation
import Hummingbird
import NIOPosix
import OwlCore
import PostgresNIO

/// Webhooks (`/api/v1/webhooks/*`, PagerDuty's `/v2/enqueue`) and the alert lifecycle (`/api/v1/alerts`).
struct AlertRoutes {
    let platform: Platform
    let ingestor: AlertIngestor
    let metrics: AlertMetrics
    var store: AlertStore { AlertStore(logger: platform.logger) }

    init(platform: Platform) {
        self.platform = platform
        metrics = AlertMetrics(metrics: platform.metrics)
        ingestor = AlertIngestor(database: platform.database, metrics: metrics, logger: platform.logger,
                                 timers: MultiThreadedEventLoopGroup.singleton.next())
    }

    func register(on routes: OwlRouter) {
        routes.secured(.post, "/api/v1/webhooks/alertmanager", .ingestion(.engineer), alertmanager)
        routes.secured(.post, "/api/v1/webhooks/keep", .ingestion(.engineer), keep)
        routes.secured(.post, "/api/v1/webhooks/generic", .ingestion(.engineer), generic)
        routes.bodyAuthenticated(.post, "/api/v1/webhooks/pagerduty", .ingestionKeyInBody(.engineer), pagerDuty)
        routes.bodyAuthenticated(.post, "/v2/enqueue", .ingestionKeyInBody(.engineer), pagerDuty)
        routes.secured(.get, "/api/v1/alerts", .role(.readonly), list)
        routes.secured(.get, "/api/v1/alerts/{id}", .role(.readonly), get)
        routes.secured(.patch, "/api/v1/alerts/{id}/acknowledge", .role(.engineer), acknowledge)
        routes.secured(.patch, "/api/v1/alerts/{id}/resolve", .role(.engineer), resolve)
    }

    // MARK: webhooks

    /// Alertmanager webhook (version 4).
    @Sendable func alertmanager(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let body = try await platform.decodeJSONValue(from: request)
        return try await ingest(try AlertPayloads.alertmanager(body, now: platform.clock.now), source: .alertmanager, principal)
    }

    /// Keep alert event(s).
    @Sendable func keep(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let body = try await platform.decodeJSONValue(from: request)
        return try await ingest(try AlertPayloads.keep(body, now: platform.clock.now), source: .keep, principal)
    }

    /// Any JSON with a title; field names can be mapped per API key (`generic_field_mappings` in tenant config).
    @Sendable func generic(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let body = try await platform.decodeJSONValue(from: request)
        var mapping: [String: String] = [:]
        if let prefix = principal.apiKeyPrefix,
           let all = try await platform.tenantConfig.setting("generic_field_mappings", tenantID: principal.tenant.id)?.objectValue {
            mapping = all[prefix]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        }
        return try await ingest(try AlertPayloads.generic(body, mapping: mapping, now: platform.clock.now), source: .generic, principal)
    }

    /// Every webhook answers with it; written without JSONEncoder, which cost more than the rest of the request (a
    /// test compares the two).
    struct WebhookResponse: JSONDocumentWritable {
        var received: Int
        var stored: Int
        var rejected: Int
        var alerts: [AlertOutcome]

        /// Written straight out, keys in JSONEncoder's sorted order: every webhook is answered with one, and the
        /// general writer's per-member strings cost as much as parsing the request.
        func jsonDocument() -> String {
            var out = "{\"alerts\":["
            out.reserveCapacity(64 + 128 * alerts.count)
            for (index, alert) in alerts.enumerated() {
                if index > 0 { out += "," }
                alert.writeJSON(into: &out)
            }
            out += "],\"received\":"
            out += String(received)
            out += ",\"rejected\":"
            out += String(rejected)
            out += ",\"stored\":"
            out += String(stored)
            out += "}"
            return out
        }
    }

    /// Stores the valid events (answering after the commit) and reports every event's fate.
    func ingest(_ parsed: AlertPayloads.Parsed, source: AlertSource, _ principal: Principal) async throws -> Response {
        let start = ContinuousClock.now
        var outcomes: [AlertOutcome] = []
        var valid: [(Int, AlertEvent)] = []
        for (index, item) in parsed.enumerated() {
            switch item {
            case .success(let event): valid.append((index, event))
            case .failure(let problem): outcomes.append(AlertOutcome(index: index, result: .rejected, error: problem.message))
            }
        }
        if !parsed.isEmpty, valid.isEmpty {
            throw APIError(.unprocessableContent, code: "validation_failed", message: "no alert in the payload is valid",
                           details: .object(["alerts": .array(outcomes.map { .object(["index": .number(Double($0.index)), "error": .string($0.error ?? "")]) })]))
        }
        let results = try await submit(valid.map(\.1), principal)
        for ((index, event), result) in zip(valid, results) {
            outcomes.append(AlertOutcome(index: index, result: result.result, alertID: result.alertID, fingerprint: event.fingerprint))
        }
        outcomes.sort { $0.index < $1.index }
        metrics.processing(source: source, duration: ContinuousClock.now - start)
        return try JSON.response(WebhookResponse(received: parsed.count, stored: valid.count, rejected: parsed.count - valid.count, alerts: outcomes))
    }

    func submit(_ events: [AlertEvent], _ principal: Principal) async throws -> [EventResult] {
        do {
            return try await ingestor.submit(tenant: principal.tenant.slug, events: events)
        } catch let error as APIError {
            throw error
        } catch {
            platform.logger.error("alerts could not be stored", metadata: ["error": .string(String(reflecting: error))])
            throw APIError(.serviceUnavailable, code: "unavailable", message: "the alerts could not be stored; send them again",
                           headers: [.retryAfter: "5"])
        }
    }

    /// PagerDuty Events API v2: `routing_key` carries the API key (a header key works too). Answers like PagerDuty.
    @Sendable func pagerDuty(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let body = try await platform.decodeJSONValue(from: request)
        // Authenticate and authorise first, so that a caller without a valid key learns nothing about the format.
        let principal: Principal
        if let given = context.principal {
            principal = given
        } else if let key = body.objectValue?["routing_key"]?.stringValue {
            principal = try await platform.authenticator.authenticateAPIKey(key)
        } else {
            throw APIError.unauthorized("routing_key or an API key header is required")
        }
        _ = try OwlRouter.authorize(principal, .ingestion(.engineer))
        let parsed: PagerDutyEvents.Parsed
        do {
            parsed = try PagerDutyEvents.parse(body, now: platform.clock.now)
        } catch {
            return try Self.invalidEvent(error.errors)
        }
        _ = try await submit([parsed.event], principal)
        metrics.processing(source: .pagerduty, duration: ContinuousClock.now - start)
        return try JSON.response(["status": "success", "message": "Event processed", "dedup_key": parsed.dedupKey], status: .accepted)
    }

    /// PagerDuty's invalid-event body, with NightOwl's error object beside it.
    static func invalidEvent(_ errors: [String]) throws -> Response {
        let body = JSONValue.object([
            "status": .string("invalid event"), "message": .string("Event object is invalid"),
            "errors": .array(errors.map { .string($0) }),
            "error": .object(["code": .string("invalid_event"), "message": .string(errors.joined(separator: "; ")),
                              "details": .object(["errors": .array(errors.map { .string($0) })])]),
        ])
        return try JSON.response(body, status: .badRequest)
    }

    // MARK: lifecycle

    /// Alerts, newest first; filters `status`, `severity` (several each), `service`, `source`, `fingerprint`, `since`, `until`.
    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let query = Query(request)
        let page = try CursorPage(query: query)
        let filter = AlertFilter(
            statuses: try query.list("status").map { try AlertStatus.parse($0, field: "status").rawValue },
            severities: try query.list("severity").map { try Severity.parse($0, field: "severity").rawValue },
            service: query["service"], source: try query["source"].map { try AlertSource.parse($0, field: "source").rawValue },
            fingerprint: query["fingerprint"], since: try query.time("since"), until: try query.time("until"))
        let rows = try await platform.database.withTenant(principal.tenant.slug) { try await store.list(filter, page: page, on: $0) }
        return try JSON.response(CursorList(rows: rows, page: page) { Cursor(time: $0.firstFiredAt, id: $0.id) })
    }

    /// One alert with the knowledge-base entry it matched.
    @Sendable func get(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let detail = try await platform.database.withTenant(principal.tenant.slug) { connection -> Flattened<Alert, [String: Incident?]>? in
            guard let alert = try await store.get(id, on: connection) else { return nil }
            let incident = try await alert.matchedIncidentID.asyncFlatMap { try await IncidentStore(logger: platform.logger).get($0, on: connection) }
            return Flattened(alert, ["incident": incident])
        }
        guard let detail else { throw APIError.notFound("alert") }
        return try JSON.response(detail)
    }

    struct LifecycleRequest: Decodable {
        var notes: String?
    }

    struct LifecycleResponse: Encodable {
        var changed: Bool
        var message: String
        var alert: Alert
        var kbPrompt: Bool?
        enum CodingKeys: String, CodingKey { case changed, message, alert, kbPrompt = "kb_prompt" }
    }

    /// Acknowledges a firing alert; acknowledging again changes nothing and says so.
    @Sendable func acknowledge(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        _ = try await optionalBody(request)
        guard let outcome = try await AlertLifecycle(platform: platform).acknowledge(id, principal, context) else { throw APIError.notFound("alert") }
        return try JSON.response(LifecycleResponse(changed: outcome.changed,
                                                   message: outcome.changed ? "acknowledged" : "already \(outcome.alert.status.rawValue)",
                                                   alert: outcome.alert))
    }

    /// Resolves an alert (with optional notes); `kb_prompt` is true when the knowledge base does not know it yet.
    @Sendable func resolve(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let notes = try await optionalBody(request)?.notes.map { try Field.optionalText($0, "notes", max: 10_000) }
        guard let outcome = try await AlertLifecycle(platform: platform).resolve(id, notes: notes, principal, context) else {
            throw APIError.notFound("alert")
        }
        return try JSON.response(LifecycleResponse(changed: outcome.changed, message: outcome.changed ? "resolved" : "already resolved",
                                                   alert: outcome.alert, kbPrompt: !(outcome.known ?? true)))
    }

    /// The body of acknowledge/resolve is optional; when present it must be valid.
    func optionalBody(_ request: Request) async throws -> LifecycleRequest? {
        let buffer = try await request.body.collect(upTo: platform.config.bodyLimitBytes)
        guard buffer.readableBytes > 0 else { return nil }
        return try JSON.decode(LifecycleRequest.self, from: Data(buffer: buffer))
    }
}
