import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOConcurrencyHelpers
import OwlCore
import OwlTestSupport
import Testing

/// Claims as an identity provider issues them, in access tokens and (with `nonce`, `name`, `email_verified`) in the
/// ID tokens of the code flow.
struct IssuedClaims: JWTPayload {
    var sub: SubjectClaim
    var iss: IssuerClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var tenant: String?
    var role: String?
    var email: String?
    var nonce: String? = nil
    var name: String? = nil
    var email_verified: Bool? = nil
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// A local OIDC provider: discovery document and JWKS over HTTP, keys that can be rotated.
final class FakeIdentityProvider: Sendable {
    let signingKeys = JWTKeyCollection()
    private let published = NIOLockedValueBox<[[String: String]]>([])
    let jwksRequests = NIOLockedValueBox(0)

    func addKey(kid: String) async {
        let key = ES256PrivateKey()
        await signingKeys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        guard let parameters = key.publicKey.parameters else { return }
        published.withLockedValue {
            $0.append(["kty": "EC", "crv": "P-256", "x": parameters.x, "y": parameters.y, "kid": kid, "alg": "ES256", "use": "sig"])
        }
    }

    func application() -> some ApplicationProtocol {
        let router = Router()
        router.get("/.well-known/openid-configuration") { request, context -> Response in
            let host = request.head.authority ?? "127.0.0.1"
            return Self.json(#"{"issuer":"http://\#(host)","jwks_uri":"http://\#(host)/jwks"}"#)
        }
        router.get("/jwks") { [self] _, _ -> Response in
            jwksRequests.withLockedValue { $0 += 1 }
            let keys = published.withLockedValue { $0 }
            let data = try JSONSerialization.data(withJSONObject: ["keys": keys])
            return Self.json(String(decoding: data, as: UTF8.self))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func token(issuer: String, audience: String = "owl", tenant: String?, role: String? = "engineer", email: String? = "eve@example.com",
               subject: String = "user-1", expires: Date = Date().addingTimeInterval(300), notBefore: Date? = nil, kid: String = "k1") async throws -> String {
        try await signingKeys.sign(IssuedClaims(sub: .init(value: subject), iss: .init(value: issuer), aud: .init(value: [audience]),
                                                exp: .init(value: expires), nbf: notBefore.map { .init(value: $0) },
                                                tenant: tenant, role: role, email: email), kid: JWKIdentifier(string: kid))
    }
}

@Suite struct JWTAuthenticationTests {
    /// A running identity provider with key `k1`, a tenant with an admin key, and a client of an app that trusts the provider.
    static func withIdentityProvider(
        _ body: @escaping @Sendable (FakeIdentityProvider, String, Tenant, String, any TestClientProtocol) async throws -> Void
    ) async throws {
        let provider = FakeIdentityProvider()
        await provider.addKey(kid: "k1")
        let database = try await TestDatabase.database()
        let (tenant, apiKey) = try await TestDatabase.makeTenant(database)
        try await provider.application().test(.live) { idp in
            let issuer = "http://127.0.0.1:\(try #require(idp.port))"
            let app = try await TestApp.make(database: database) {
                $0.oidc = OIDCSettings(issuer: issuer, audience: "owl", minimumKeyRefresh: .zero)
            }
            try await app.test { client in try await body(provider, issuer, tenant, apiKey, client) }
        }
    }

    @Test func tokensAreCheckedAgainstTheIssuersKeys() async throws {
        try await Self.withIdentityProvider { provider, issuer, tenant, apiKey, client in
            func ping(_ token: String) async throws -> TestResponse {
                try await client.call(.get, "/api/v1/ping", headers: [.authorization: "Bearer \(token)"])
            }
            let good = try await ping(try await provider.token(issuer: issuer, tenant: tenant.slug.value))
            #expect(good.status == .ok)
            #expect(good.json["auth_method"]?.stringValue == "jwt")
            #expect(good.json["role"]?.stringValue == "engineer")
            #expect(good.json["actor"]?.stringValue == "eve@example.com")

            let expired = try await ping(try await provider.token(issuer: issuer, tenant: tenant.slug.value, expires: Date().addingTimeInterval(-600)))
            #expect(expired.status == .unauthorized)
            let early = try await ping(try await provider.token(issuer: issuer, tenant: tenant.slug.value, notBefore: Date().addingTimeInterval(600)))
            #expect(early.status == .unauthorized)
            let wrongAudience = try await ping(try await provider.token(issuer: issuer, audience: "someone-else", tenant: tenant.slug.value))
            #expect(wrongAudience.status == .unauthorized)
            let wrongIssuer = try await ping(try await provider.token(issuer: "https://evil.example.com", tenant: tenant.slug.value))
            #expect(wrongIssuer.status == .unauthorized)
            let unknownTenant = try await ping(try await provider.token(issuer: issuer, tenant: "no_such_tenant"))
            #expect(unknownTenant.status == .unauthorized)

            // Tampered: the payload says admin, the signature was made for engineer.
            let original = try await provider.token(issuer: issuer, tenant: tenant.slug.value)
            let admin = try await provider.token(issuer: issuer, tenant: tenant.slug.value, role: "admin")
            let parts = original.split(separator: ".")
            let forged = [parts[0], admin.split(separator: ".")[1], parts[2]].joined(separator: ".")
            #expect(try await ping(forged).status == .unauthorized)
            #expect(try await ping("not.a.jwt").status == .unauthorized)

            // A JWT takes precedence over an API key sent alongside.
            let both = try await client.call(.get, "/api/v1/ping", key: apiKey,
                                              headers: [.authorization: "Bearer \(try await provider.token(issuer: issuer, tenant: tenant.slug.value))"])
            #expect(both.json["auth_method"]?.stringValue == "jwt")
        }
    }

    @Test func rotatedKeysAreFetchedAgainAndRolesFallBackToTheUser() async throws {
        try await Self.withIdentityProvider { provider, issuer, tenant, apiKey, client in
            _ = try await client.call(.post, "/api/v1/users", key: apiKey,
                                      json: #"{"email":"mia@example.com","display_name":"Mia","role":"manager","external_id":"sub-mia"}"#)
            let first = try await provider.token(issuer: issuer, tenant: tenant.slug.value, role: nil, email: "mia@example.com", subject: "sub-mia")
            let response = try await client.call(.get, "/api/v1/ping", headers: [.authorization: "Bearer \(first)"])
            #expect(response.json["role"]?.stringValue == "manager", "no role claim: the user's role applies")
            #expect(provider.jwksRequests.withLockedValue { $0 } == 1, "keys are cached")

            await provider.addKey(kid: "k2")
            let rotated = try await provider.token(issuer: issuer, tenant: tenant.slug.value, kid: "k2")
            #expect(try await client.call(.get, "/api/v1/ping", headers: [.authorization: "Bearer \(rotated)"]).status == .ok)
            #expect(provider.jwksRequests.withLockedValue { $0 } == 2, "an unknown kid fetches the keys again")

            // A deactivated user is refused even with a valid token.
            let users = try await client.call(.get, "/api/v1/users", key: apiKey)
            let id = try #require(users.json["items"]?.arrayValue?.first?["id"]?.stringValue)
            _ = try await client.call(.delete, "/api/v1/users/\(id)", key: apiKey)
            #expect(try await client.call(.get, "/api/v1/ping", headers: [.authorization: "Bearer \(first)"]).status == .forbidden)
        }
    }

    @Test func withoutOIDCBearerJWTsAreRefused() async throws {
        let app = try await TestApp.make()
        try await app.test { client in
            let response = try await client.call(.get, "/api/v1/ping", headers: [.authorization: "Bearer eyJhbGciOiJFUzI1NiJ9.e30.sig"])
            #expect(response.status == .unauthorized)
        }
    }
}
