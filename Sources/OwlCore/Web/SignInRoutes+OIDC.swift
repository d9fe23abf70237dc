import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Single sign-on: the authorization code flow with PKCE, `state` and `nonce`, against the issuer the services already
/// trust for bearer tokens. The person is provisioned on first sign-in from the ID token's `sub`, `email` and `name`;
/// the role comes from the role claim when there is one (and is kept on the user), else from the user, else readonly.
extension SignInRoutes {
    static let signInLifetime: TimeInterval = 600

    func registerOIDC(on routes: OwlRouter) {
        routes.open(.get, "/auth/oidc/start", oidcStart)
        routes.open(.get, "/auth/oidc/callback", oidcCallback)
    }

    var stateCookie: String { "\(platform.config.serviceName)_oidc" }

    var oidcClient: (OIDCVerifier, String)? {
        guard let verifier = platform.authenticator.oidc, let client = verifier.settings.clientID else { return nil }
        return (verifier, client)
    }

    func redirectURL(_ request: Request) -> String {
        platform.config.oidc?.redirectURL ?? platform.baseURL(for: request) + "/auth/oidc/callback"
    }

    /// Sends the browser to the issuer, remembering (once, for ten minutes) the state, nonce and PKCE verifier.
    @Sendable func oidcStart(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        guard let (verifier, client) = oidcClient else { throw APIError.notFound("page") }
        let returnTo = ReturnPath.safe(Query(request)["return_to"], fallback: home)
        let endpoints: (authorize: String, token: String)
        do { endpoints = try await verifier.endpoints() } catch {
            return try await signInForm(request, returnTo: returnTo, tenant: nil, email: nil,
                                        error: "The identity provider cannot be reached. Try again in a moment.", status: .serviceUnavailable)
        }
        let state = WebToken.make(), nonce = WebToken.make(), codeVerifier = WebToken.make()
        let now = platform.clock.now
        try await platform.database.transaction { connection in
            try await connection.query("DELETE FROM public.oidc_sign_ins WHERE expires_at < \(now)", logger: platform.logger)
            try await connection.query("""
                INSERT INTO public.oidc_sign_ins (state_hash, nonce, verifier, return_to, created_at, expires_at)
                VALUES (\(WebToken.hash(state)), \(nonce), \(codeVerifier), \(returnTo), \(now), \(now.addingTimeInterval(Self.signInLifetime)))
                """, logger: platform.logger)
        }
        let parameters = [
            ("response_type", "code"), ("client_id", client), ("redirect_uri", redirectURL(request)), ("scope", "openid email profile"),
            ("state", state), ("nonce", nonce), ("code_challenge", PKCE.challenge(for: codeVerifier)), ("code_challenge_method", "S256"),
        ]
        let separator = endpoints.authorize.contains("?") ? "&" : "?"
        var response = redirect(endpoints.authorize + separator + FormEncoding.encode(parameters))
        // The state is bound to this browser: a callback link made for another browser (login CSRF) is refused.
        response.headers.append(HTTPField(name: .setCookie, value: "\(stateCookie)=\(state); Path=/auth/oidc; Max-Age=\(Int(Self.signInLifetime)); HttpOnly; SameSite=Lax"
                                          + (cookie.secure ? "; Secure" : "")))
        return response
    }

    /// The issuer sends the browser back with a code: the state is used up, the code exchanged with the verifier,
    /// the ID token checked (signature, issuer, audience, time, nonce), the person found or provisioned, and a session
    /// started.
    @Sendable func oidcCallback(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        guard let (verifier, client) = oidcClient else { throw APIError.notFound("page") }
        let query = Query(request)
        func refuse(_ message: String, _ status: HTTPResponse.Status = .badRequest) async throws -> Response {
            try await signInForm(request, returnTo: home, tenant: nil, email: nil, error: message, status: status)
        }
        if let error = query["error"] { return try await refuse("The identity provider did not sign you in (\(error)).", .unauthorized) }
        guard let state = query["state"], let code = query["code"] else { return try await refuse("The sign-in answer is incomplete. Start again.") }
        guard let bound = CookieHeader.value(stateCookie, in: request.headers[.cookie]), ConstantTime.equal(bound, state) else {
            return try await refuse("This sign-in was not started in this browser. Start again.")
        }
        var pending: (nonce: String, verifier: String, returnTo: String)?
        for try await row in try await platform.database.client.query("""
            DELETE FROM public.oidc_sign_ins WHERE state_hash = \(WebToken.hash(state)) AND expires_at > \(platform.clock.now)
            RETURNING nonce, verifier, return_to
            """, logger: platform.logger).decode((String, String, String).self) { pending = row }
        guard let pending else { return try await refuse("This sign-in has expired or was used already. Start again.") }

        let idToken: String
        do {
            let endpoints = try await verifier.endpoints()
            idToken = try await exchange(code, verifier: pending.verifier, request: request, client: client, tokenEndpoint: endpoints.token)
        } catch let failure as OIDCFailure {
            return try await refuse(failure.message, .unauthorized)
        } catch {
            return try await refuse("The identity provider cannot be reached. Try again in a moment.", .serviceUnavailable)
        }
        let claims: OIDCClaims
        do {
            claims = try await verifier.verifyIDToken(idToken, clientID: client, nonce: pending.nonce)
        } catch .invalidToken(let reason) {
            return try await refuse("The identity provider's answer was not accepted (\(reason)).", .unauthorized)
        } catch .issuerUnavailable {
            return try await refuse("The identity provider cannot be reached. Try again in a moment.", .serviceUnavailable)
        }
        let settings = verifier.settings
        guard let slug = claims.string(settings.tenantClaim).flatMap(TenantSlug.init),
              let tenant = try await TenantStore(database: platform.database).find(slug: slug) else {
            return try await refuse("Your account names no workspace here. Ask an administrator.", .forbidden)
        }
        let provisioned: UUID?
        do {
            provisioned = try await provision(claims, tenant: tenant, roleClaim: settings.roleClaim, context: context)
        } catch is OIDCFailure {
            return try await refuse("Another account here has your email address. Ask an administrator to link it to your sign-on.", .forbidden)
        }
        guard let userID = provisioned else {
            return try await refuse("Your account here is deactivated. Ask an administrator.", .forbidden)
        }
        return try await startSession(request, context, tenant: tenant, userID: userID, method: .oidc, returnTo: pending.returnTo)
    }

    struct OIDCFailure: Error { let message: String }

    /// The token request (`client_secret_post` for a confidential client); answers the ID token.
    func exchange(_ code: String, verifier: String, request: Request, client: String, tokenEndpoint: String) async throws -> String {
        var form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURL(request)), ("client_id", client),
                    ("code_verifier", verifier)]
        if let secret = platform.config.oidc?.clientSecret { form.append(("client_secret", secret)) }
        var call = HTTPClientRequest(url: tokenEndpoint)
        call.method = .POST
        call.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        call.headers.add(name: "Accept", value: "application/json")
        call.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
        let text: String
        let status: Int
        do {
            let response = try await platform.httpClient.execute(call, timeout: .seconds(5))
            text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            status = Int(response.status.code)
        } catch {
            throw OIDCFailure(message: "The identity provider cannot be reached. Try again in a moment.")
        }
        let json = JSONValue.parse(text)?.objectValue
        guard status == 200, let token = json?["id_token"]?.stringValue else {
            let reason = json?["error"]?.stringValue ?? "HTTP \(status)"
            throw OIDCFailure(message: "The identity provider refused the sign-in (\(reason)). Start again.")
        }
        return token
    }

    /// The user of the token's `sub` (else its email), created on first sign-in; nil when deactivated.
    func provision(_ claims: OIDCClaims, tenant: Tenant, roleClaim: String, context: OwlRequestContext) async throws -> UUID? {
        let subject = claims.subject.value
        let email = claims.string("email") ?? "\(subject)@\(tenant.slug.value).invalid"
        let name = claims.string("name") ?? claims.string("preferred_username") ?? email
        let role = claims.string(roleClaim).flatMap(Role.init(rawValue:))
        // An email the provider has not verified could be anyone's: it never links to an existing user.
        let verified = claims.all["email_verified"] == .bool(true) || claims.all["email_verified"] == .string("true")
        let linkable = verified ? email : ""
        let now = platform.clock.now
        let (id, active, created) = try await platform.database.withTenant(tenant.slug, actor: email) { connection -> (UUID, Bool, Bool) in
            for try await (id, active) in try await connection.query("""
                UPDATE users SET external_id = COALESCE(external_id, \(subject)), role = COALESCE(\(role?.rawValue), role), updated_at = \(now)
                WHERE id = (SELECT id FROM users WHERE external_id = \(subject) OR (external_id IS NULL AND lower(email) = lower(\(linkable)))
                            ORDER BY (external_id = \(subject)) DESC NULLS LAST LIMIT 1)
                RETURNING id, is_active
                """, logger: platform.logger).decode((UUID, Bool).self) { return (id, active, false) }
            for try await id in try await connection.query("""
                INSERT INTO users (external_id, email, display_name, role, created_at, updated_at)
                VALUES (\(subject), \(email), \(String(name.prefix(200))), \((role ?? .readonly).rawValue), \(now), \(now))
                ON CONFLICT DO NOTHING RETURNING id
                """, logger: platform.logger).decode(UUID.self) { return (id, true, true) }
            throw OIDCFailure(message: "email taken")
        }
        if created {
            await platform.audit.record(AuditEntry(actor: email, actorType: AuthMethod.jwt.rawValue, action: "user.provision", resource: "user",
                                                   resourceID: id.uuidString.lowercased(), diff: .object(["email": .string(email), "role": .string((role ?? .readonly).rawValue)]),
                                                   requestID: context.requestID, ipAddress: context.remoteAddress, createdAt: now), tenant: tenant.slug)
        }
        return active ? id : nil
    }
}

/// PKCE (RFC 7636): the challenge is the base64url SHA-256 of the verifier.
public enum PKCE {
    public static func challenge(for verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
