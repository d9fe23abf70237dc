import Foundation
import Hummingbird

/// What every console has whatever its service: the stylesheet and script, the theme choice, and `/auth/config` (the
/// links to the other services and the ways to sign in, for pages and scripts that need them before signing in).
struct ConsoleRoutes {
    let platform: Platform
    let assets: ConsoleAssets
    let hub: ConsoleEventHub

    func register(on routes: OwlRouter) {
        routes.asset("/assets/{file}", asset)
        routes.page(.post, "/console/theme", .readonly, inAPI: false, theme)
        routes.page(.get, "/events", .readonly, inAPI: false, events)
        routes.open(.get, "/auth/config", config)
    }

    /// A hashed stylesheet or script of this build; kept by browsers for a year.
    @Sendable func asset(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        guard let asset = assets.asset(at: request.uri.path) else { throw APIError.notFound("file") }
        return assets.response(asset)
    }

    /// The tenant's changes as Server-Sent Events, for the pages' live updates.
    @Sendable func events(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        try await ConsoleEventStream(hub: hub, database: platform.database).response(request, tenant: principal.tenant.slug)
    }

    /// Light, dark or as the system says, for this browser; back to the page it was chosen on.
    @Sendable func theme(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let form = try await ConsoleForm.read(request, limit: platform.config.bodyLimitBytes)
        let choice = ConsoleTheme(cookie: form["theme"]).choice
        let secure = platform.authenticator.cookie.secure ? "; Secure" : ""
        let cookie = choice == "system" ? "\(ConsoleTheme.cookie)=; Path=/; Max-Age=0; SameSite=Lax\(secure)"
            : "\(ConsoleTheme.cookie)=\(choice); Path=/; Max-Age=31536000; SameSite=Lax\(secure)"
        return Response(status: .seeOther, headers: [.location: ReturnPath.safe(form["return_to"], fallback: "/"), .setCookie: cookie])
    }

    struct ClientConfig: Encodable {
        var service: String
        var links: [String: String]
        var signIn: SignIn
        struct SignIn: Encodable {
            var local: Bool
            var oidc: Bool
            var dev: Bool
        }
        enum CodingKeys: String, CodingKey { case service, links, signIn = "sign_in" }
    }

    /// The other services' console URLs and the sign-in methods on offer.
    @Sendable func config(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let links = Dictionary(uniqueKeysWithValues: ServiceLinks.others(of: platform.config.serviceName, in: platform.config.serviceLinks)
            .map { ($0.name, $0.url) })
        let oidc = platform.config.oidc.map { $0.clientID != nil } ?? false
        return try JSON.response(ClientConfig(service: platform.config.serviceName, links: links,
                                              signIn: .init(local: platform.config.sessions.localAccounts, oidc: oidc, dev: platform.config.devMode)))
    }
}

/// A console form's fields (`application/x-www-form-urlencoded`); anything else is a 400 that says so.
public enum ConsoleForm {
    public static func read(_ request: Request, limit: Int) async throws -> [String: String] {
        try await readAll(request, limit: limit).reduce(into: [:]) { $0[$1.0] = $1.1 }
    }

    /// Every field in order, repeated names included (the ticked boxes of a list).
    public static func readAll(_ request: Request, limit: Int) async throws -> [(String, String)] {
        var request = request
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            throw APIError.badRequest("this is a form: send application/x-www-form-urlencoded", code: "invalid_form")
        }
        let body = try await request.collectBody(upTo: limit)
        return FormEncoding.decode(String(buffer: body))
    }
}

/// Keeps `console_events` to the last hour: enough for a browser to catch up after a reconnect.
enum ConsoleEventRetention {
    static func job(_ environment: WorkerEnvironment) -> TenantJob {
        .periodic("console_events", every: .seconds(60)) { tenant, instant in
            try await environment.database.withTenant(tenant.slug, actor: "console-events") { connection -> Void in
                _ = try await connection.query("DELETE FROM console_events WHERE created_at < \(instant.addingTimeInterval(-3_600))",
                                           logger: environment.logger)
            }
        }
    }
}
