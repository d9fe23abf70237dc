import Foundation
import Hummingbird
import HummingbirdTesting
import OwlCore

/// Checks every service must pass: RBAC on every declared route, and an OpenAPI document that lists exactly the routes.
public enum Conformance {
    public struct Outcome: Sendable, CustomStringConvertible {
        public let route: String
        public let caller: String
        public let status: Int
        public let expected: String
        public var description: String { "\(route) as \(caller): \(status), expected \(expected)" }
    }

    /// Calls every route without credentials and with a key of every role; returns the calls whose status broke the rule:
    /// 401 without credentials, 403 below the route's role, neither (and no 5xx) at or above it.
    public static func rbacViolations(_ app: TestApp) async throws -> [Outcome] {
        let (_, adminKey) = try await TestDatabase.makeTenant(app.database, definition: app.definition)
        let keys = try await keysForAllRoles(app, adminKey: adminKey)
        let routes = app.routes
        let webhookKey = try await app.test { client in
            try await client.call(.post, "/api/v1/api-keys", key: adminKey, json: #"{"role":"admin","scopes":["webhook"]}"#).json["key"]?.stringValue
        }
        return try await app.test { client in
            var failures: [Outcome] = []
            for route in routes {
                let uri = route.path.replacingOccurrences(of: #"\{[a-zA-Z_]+\}"#, with: UUID().uuidString, options: .regularExpression)
                let body = [.post, .put, .patch].contains(route.method) ? "{}" : nil
                let anonymous = try await client.call(route.method, uri, json: body)
                if route.access == .providerSigned {
                    // Without the provider's signature: refused, never served and never a server error.
                    if ![400, 403, 404].contains(Int(anonymous.status.code)) {
                        failures.append(Outcome(route: route.description, caller: "anonymous", status: Int(anonymous.status.code), expected: "400/403/404"))
                    }
                    continue
                }
                if route.access == .open {
                    if anonymous.status.code >= 400 && anonymous.status.code != 404 && anonymous.status.code != 503 {
                        failures.append(Outcome(route: route.description, caller: "anonymous", status: Int(anonymous.status.code), expected: "open"))
                    }
                    continue
                }
                if route.access == .anonymousForm {
                    // Without the CSRF cookie its page sets: refused, never served and never a server error.
                    if ![400, 403].contains(Int(anonymous.status.code)) {
                        failures.append(Outcome(route: route.description, caller: "anonymous", status: Int(anonymous.status.code), expected: "400/403"))
                    }
                    continue
                }
                if case .page = route.access {
                    // A browser that is not signed in is sent to sign in.
                    let location = anonymous.headers[.location] ?? ""
                    if anonymous.status != .seeOther || !location.hasPrefix("/auth/sign-in") {
                        failures.append(Outcome(route: route.description, caller: "anonymous", status: Int(anonymous.status.code), expected: "303 to sign-in"))
                    }
                } else if case .ingestionKeyInBody = route.access {
                    // The key may be in the body; without one the event is refused as invalid or unauthenticated.
                    if ![400, 401].contains(Int(anonymous.status.code)) {
                        failures.append(Outcome(route: route.description, caller: "anonymous", status: Int(anonymous.status.code), expected: "400/401"))
                    }
                } else if anonymous.status != .unauthorized {
                    failures.append(Outcome(route: route.description, caller: "anonymous", status: Int(anonymous.status.code), expected: "401"))
                }
                guard let minimum = route.access.minimumRole else { continue }
                for role in Role.allCases {
                    let response = try await client.call(route.method, uri, key: keys[role], json: body)
                    let code = Int(response.status.code)
                    if role < minimum {
                        if code != 403 { failures.append(Outcome(route: route.description, caller: role.rawValue, status: code, expected: "403")) }
                    } else if code == 401 || code == 403 || code >= 500 {
                        failures.append(Outcome(route: route.description, caller: role.rawValue, status: code, expected: "allowed"))
                    }
                }
                // A key scoped to ingestion reaches ingestion routes only, whatever its role.
                let webhookCode = Int(try await client.call(route.method, uri, key: webhookKey, json: body).status.code)
                switch route.access {
                case .role, .page:
                    if webhookCode != 403 {
                        failures.append(Outcome(route: route.description, caller: "webhook-scoped key", status: webhookCode, expected: "403"))
                    }
                case .ingestion, .ingestionKeyInBody:
                    if webhookCode == 401 || webhookCode == 403 || webhookCode >= 500 {
                        failures.append(Outcome(route: route.description, caller: "webhook-scoped key", status: webhookCode, expected: "allowed"))
                    }
                case .open, .providerSigned, .anonymousForm:
                    break
                }
            }
            return failures
        }
    }

    /// One key per role in a fresh tenant.
    public static func keysForAllRoles(_ app: TestApp, adminKey: String) async throws -> [Role: String] {
        try await app.test { client in
            var keys: [Role: String] = [.admin: adminKey]
            for role in [Role.manager, .engineer, .readonly] {
                let response = try await client.call(.post, "/api/v1/api-keys", key: adminKey, json: #"{"role":"\#(role.rawValue)"}"#)
                keys[role] = response.json["key"]?.stringValue
            }
            return keys
        }
    }

    /// Routes in the router but not in the document, and operations in the document but not in the router.
    public static func openAPIMismatch(_ app: TestApp, document: String) -> (undocumented: Set<String>, unrouted: Set<String>) {
        let routed = Set(app.routes.filter(\.inAPI).map(\.description))
        let documented = OpenAPIDocument.operations(in: document)
        return (routed.subtracting(documented), documented.subtracting(routed))
    }

    /// Seeds twice (it must be idempotent), then seeds the demo; returns what the dev key sees afterwards.
    public static func seedSummary(_ definition: ServiceDefinition) async throws -> (tenant: String?, users: Double?, tenants: [String]) {
        let database = try await TestDatabase.isolatedDatabase()
        try await Seeder(definition: definition, database: database).seed()
        try await Seeder(definition: definition, database: database).seed()
        let app = try await TestApp.make(definition: definition, database: database)
        let (tenant, users) = try await app.test { client in
            let ping = try await client.call(.get, "/api/v1/ping", key: Seeder.devAPIKey)
            let users = try await client.call(.get, "/api/v1/users", key: Seeder.devAPIKey)
            return (ping.json["tenant"]?.stringValue, users.json["total"]?.numberValue)
        }
        try await Seeder(definition: definition, database: database).seedDemo()
        return (tenant, users, try await TenantStore(database: database).list().map(\.slug.value))
    }
}
