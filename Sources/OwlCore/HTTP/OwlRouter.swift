import Hummingbird

/// Who may call a route.
public enum Access: Sendable, Hashable {
    /// No credentials needed (health, metrics, docs, signed provider callbacks).
    case open
    /// A tenant caller with at least this role; keys limited to the `webhook` scope are refused.
    case role(Role)
    /// Alert ingestion: at least this role, and `webhook`-scoped keys are welcome.
    case ingestion(Role)
    /// Ingestion whose key may also arrive in the body (PagerDuty's `routing_key`); the handler authenticates.
    case ingestionKeyInBody(Role)
    /// A provider's callback (Twilio, Slack) authenticated by the provider's signature, which the handler checks:
    /// 403 without a valid one.
    case providerSigned
    /// A form for people who are not signed in yet (sign-in, setting a password), protected by a CSRF cookie that its
    /// page set: 400 or 403 without it.
    case anonymousForm
    /// An HTML page for a signed-in person with at least this role; a browser that is not signed in is sent to the
    /// sign-in page (303), one below the role gets 403.
    case page(Role)

    public var minimumRole: Role? {
        switch self {
        case .open, .providerSigned, .anonymousForm: nil
        case .role(let role), .ingestion(let role), .ingestionKeyInBody(let role), .page(let role): role
        }
    }
}

/// One route as declared: the table that RBAC, the OpenAPI coverage test and the RBAC matrix test all read.
public struct RouteDescriptor: Sendable, Hashable, CustomStringConvertible {
    public var method: HTTPRequest.Method
    public var path: String
    public var access: Access
    /// Part of the service's API and its OpenAPI document; console pages and their static files are not.
    public var inAPI = true
    public var description: String { "\(method.rawValue) \(path)" }

    public init(method: HTTPRequest.Method, path: String, access: Access, inAPI: Bool = true) {
        self.method = method
        self.path = path
        self.access = access
        self.inAPI = inAPI
    }
}

/// A handler that only runs for an authenticated, authorised caller: the principal is a parameter, not a hope.
public typealias SecuredHandler = @Sendable (Request, OwlRequestContext, Principal) async throws -> Response
public typealias OpenHandler = @Sendable (Request, OwlRequestContext) async throws -> Response

/// Registers routes together with their access rule.
public final class OwlRouter {
    public let router: Router<OwlRequestContext>
    public private(set) var routes: [RouteDescriptor] = []

    public init(router: Router<OwlRequestContext>) { self.router = router }

    public func open(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping OpenHandler) {
        routes.append(RouteDescriptor(method: method, path: path, access: .open))
        router.on(RouterPath(path), method: method) { request, context in try await handler(request, context) }
    }

    /// Registers a console's static file route: open, and not part of the API.
    public func asset(_ path: String, _ handler: @escaping OpenHandler) {
        routes.append(RouteDescriptor(method: .get, path: path, access: .open, inAPI: false))
        router.on(RouterPath(path), method: .get) { request, context in try await handler(request, context) }
    }

    /// Registers a provider callback that its handler authenticates by signature.
    public func signed(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping OpenHandler) {
        routes.append(RouteDescriptor(method: method, path: path, access: .providerSigned))
        router.on(RouterPath(path), method: method) { request, context in try await handler(request, context) }
    }

    /// Registers a form for people who are not signed in; its handler checks the form's CSRF cookie.
    public func anonymousForm(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping OpenHandler) {
        routes.append(RouteDescriptor(method: method, path: path, access: .anonymousForm))
        router.on(RouterPath(path), method: method) { request, context in try await handler(request, context) }
    }

    /// Registers an HTML page (or a form post of one) for signed-in people with at least `role`. Console pages are not
    /// part of the API (`inAPI: false`); the sign-in pages are documented with it.
    public func page(_ method: HTTPRequest.Method, _ path: String, _ role: Role, inAPI: Bool = true, _ handler: @escaping SecuredHandler) {
        routes.append(RouteDescriptor(method: method, path: path, access: .page(role), inAPI: inAPI))
        router.on(RouterPath(path), method: method) { request, context in
            guard context.principal != nil else { return SignInRedirect.response(for: request) }
            let principal = try Self.authorize(context.principal, .role(role))
            return try await handler(request, context, principal)
        }
    }

    public func secured(_ method: HTTPRequest.Method, _ path: String, _ access: Access, _ handler: @escaping SecuredHandler) {
        precondition(access != .open && access != .providerSigned && access != .anonymousForm, "use open, signed or anonymousForm for these routes")
        routes.append(RouteDescriptor(method: method, path: path, access: access))
        router.on(RouterPath(path), method: method) { request, context in
            let principal = try Self.authorize(context.principal, access)
            return try await handler(request, context, principal)
        }
    }

    /// Registers a route that authenticates inside its handler (with `authorize`), because its credentials travel in
    /// the body. The access rule is still declared here, in the route table.
    public func bodyAuthenticated(_ method: HTTPRequest.Method, _ path: String, _ access: Access, _ handler: @escaping OpenHandler) {
        routes.append(RouteDescriptor(method: method, path: path, access: access))
        router.on(RouterPath(path), method: method) { request, context in try await handler(request, context) }
    }

    /// 401 without credentials, 403 below the route's role or with a key scoped to ingestion only.
    public static func authorize(_ principal: Principal?, _ access: Access) throws -> Principal {
        guard let principal else { throw APIError.unauthorized }
        guard let minimum = access.minimumRole else { return principal }
        if principal.isWebhookOnly, case .role = access {
            throw APIError.forbidden("this API key may only send alerts")
        }
        guard principal.role >= minimum else {
            throw APIError.forbidden("this needs the \(minimum.rawValue) role or higher; the caller has \(principal.role.rawValue)")
        }
        return principal
    }
}
