import Foundation
import Hummingbird

/// Health, readiness, metrics, status and ping.
struct SystemRoutes {
    let platform: Platform

    func register(on routes: OwlRouter) {
        routes.open(.get, "/healthz", healthz)
        routes.open(.get, "/readyz", readyz)
        routes.open(.get, "/metrics", metrics)
        routes.secured(.get, "/api/v1/status", .role(.readonly), status)
        routes.secured(.get, "/api/v1/ping", .role(.readonly), ping)
    }

    /// The process is alive; says nothing about the database, so a database outage never restarts the pod.
    @Sendable func healthz(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        try JSON.response(["status": "ok"])
    }

    /// Ready when the database answers; 503 while it does not.
    @Sendable func readyz(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        guard let latency = await platform.database.ping() else {
            return try JSON.response(["status": JSONValue.string("unavailable"), "database": .string("down")], status: .serviceUnavailable)
        }
        return try JSON.response(["status": JSONValue.string("ready"), "database": .string("up"),
                                  "database_latency_ms": .number(latency.milliseconds)])
    }

    /// Prometheus text format.
    @Sendable func metrics(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: platform.metrics.render())))
    }

    struct Status: Encodable {
        var service: String
        var version: String
        var uptimeSeconds: Int
        var startedAt: Date
        var database: String
        var databaseLatencyMs: Double?
        enum CodingKeys: String, CodingKey {
            case service, version, database
            case uptimeSeconds = "uptime_seconds", startedAt = "started_at", databaseLatencyMs = "database_latency_ms"
        }
    }

    /// Version, uptime and database latency.
    @Sendable func status(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let latency = await platform.database.ping()
        return try JSON.response(Status(
            service: platform.config.serviceName, version: platform.version,
            uptimeSeconds: Int(platform.clock.now.timeIntervalSince(platform.startedAt)), startedAt: platform.startedAt,
            database: latency == nil ? "down" : "up", databaseLatencyMs: latency?.milliseconds))
    }

    struct Ping: Encodable {
        var tenant: String
        var tenantName: String
        var role: Role
        var actor: String
        var authMethod: AuthMethod
        enum CodingKeys: String, CodingKey {
            case tenant, role, actor
            case tenantName = "tenant_name", authMethod = "auth_method"
        }
    }

    /// Who the caller is: tenant, role and how they authenticated.
    @Sendable func ping(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        try JSON.response(Ping(tenant: principal.tenant.slug.value, tenantName: principal.tenant.name, role: principal.role,
                               actor: principal.actor, authMethod: principal.method))
    }
}

extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return (Double(seconds) * 1000 + Double(attoseconds) / 1e15).rounded(toPlaces: 3)
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let factor = Foundation.pow(10.0, Double(places))
        return (self * factor).rounded() / factor
    }
}
