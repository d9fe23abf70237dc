import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOFoundationCompat

/// Claims of an OIDC access or ID token. Registered claims are checked in `verify`; the rest are kept for mapping.
public struct OIDCClaims: JWTPayload {
    public var subject: SubjectClaim
    public var issuer: IssuerClaim
    public var audience: AudienceClaim
    public var expiration: ExpirationClaim
    public var notBefore: NotBeforeClaim?
    public var all: [String: JSONValue]

    enum CodingKeys: String, CodingKey { case sub, iss, aud, exp, nbf }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        subject = try c.decode(SubjectClaim.self, forKey: .sub)
        issuer = try c.decode(IssuerClaim.self, forKey: .iss)
        audience = try c.decode(AudienceClaim.self, forKey: .aud)
        expiration = try c.decode(ExpirationClaim.self, forKey: .exp)
        notBefore = try c.decodeIfPresent(NotBeforeClaim.self, forKey: .nbf)
        all = try decoder.singleValueContainer().decode([String: JSONValue].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(all)
    }

    /// jwt-kit calls this after the signature check; it has no clock, so `OIDCVerifier` checks time (`verifyTime`),
    /// issuer and audience itself.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// `exp` and `nbf` at `now`, with a minute of leeway for clock skew between the issuer and this server.
    public func verifyTime(at now: Date) throws {
        try expiration.verifyNotExpired(currentDate: now.addingTimeInterval(-60))
        try notBefore?.verifyNotBefore(currentDate: now.addingTimeInterval(60))
    }

    public func string(_ claim: String) -> String? {
        switch all[claim] {
        case .string(let s): s
        case .array(let items): items.first?.stringValue
        default: nil
        }
    }
}

/// Verifies bearer JWTs against the issuer's JWKS, found through its discovery document. Keys are cached and
/// fetched again when a token names an unknown `kid` (at most once every 30 seconds, so garbage cannot hammer the issuer).
public actor OIDCVerifier {
    public let settings: OIDCSettings
    let httpClient: HTTPClient
    let logger: Logger
    private var keys: JWTKeyCollection?
    private var knownKeyIDs: Set<String> = []
    private var lastFetch: ContinuousClock.Instant?

    let clock: WallClock

    public init(settings: OIDCSettings, httpClient: HTTPClient, logger: Logger, clock: WallClock) {
        self.clock = clock
        self.settings = settings
        self.httpClient = httpClient
        self.logger = logger
    }

    public enum Failure: Error, Equatable {
        case invalidToken(String)
        case issuerUnavailable
    }

    /// Where the issuer's authorization and token endpoints are (its discovery document).
    public func endpoints() async throws(Failure) -> (authorize: String, token: String) {
        if let endpoints = cachedEndpoints { return endpoints }
        do {
            let discovery = try await fetchJSON(settings.issuer.trimmingSuffix("/") + "/.well-known/openid-configuration")
            guard let authorize = discovery.objectValue?["authorization_endpoint"]?.stringValue,
                  let token = discovery.objectValue?["token_endpoint"]?.stringValue else { throw Failure.issuerUnavailable }
            cachedEndpoints = (authorize, token)
            return (authorize, token)
        } catch {
            logger.error("could not read the OIDC issuer's discovery document", metadata: ["error": .string(String(reflecting: error))])
            throw .issuerUnavailable
        }
    }
    private var cachedEndpoints: (authorize: String, token: String)?

    /// An ID token from the code flow: signed by the issuer, for the consoles' client, current, and carrying the
    /// nonce this sign-in sent (so a token made for another sign-in is refused).
    public func verifyIDToken(_ token: String, clientID: String, nonce: String) async throws(Failure) -> OIDCClaims {
        let claims = try await verify(token, audience: clientID)
        guard let sent = claims.string("nonce"), ConstantTime.equal(sent, nonce) else { throw .invalidToken("nonce does not match") }
        return claims
    }

    public func verify(_ token: String) async throws(Failure) -> OIDCClaims { try await verify(token, audience: settings.audience) }

    func verify(_ token: String, audience: String) async throws(Failure) -> OIDCClaims {
        let claims: OIDCClaims
        do {
            claims = try await verifySignature(token)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .invalidToken(Self.describe(error))
        }
        do { try claims.verifyTime(at: clock.now) } catch { throw .invalidToken(Self.describe(error)) }
        guard claims.issuer.value == settings.issuer else { throw .invalidToken("issuer does not match") }
        do { try claims.audience.verifyIntendedAudience(includes: audience) } catch {
            throw .invalidToken("audience does not match")
        }
        return claims
    }

    private func verifySignature(_ token: String) async throws -> OIDCClaims {
        var collection = try await currentKeys(forceRefresh: false)
        // jwt-kit falls back to a default key for an unknown kid; an unknown kid here means the issuer rotated its
        // keys, so fetch them again (rate-limited) and refuse tokens whose key is still unknown.
        if let kid = Self.keyID(of: token), !knownKeyIDs.contains(kid) {
            let now = ContinuousClock.now
            if lastFetch.map({ now - $0 >= settings.minimumKeyRefresh }) ?? true {
                logger.info("unknown key id in token; fetching the issuer's keys again")
                collection = try await currentKeys(forceRefresh: true)
            }
            guard knownKeyIDs.contains(kid) else { throw Failure.invalidToken("token names an unknown key") }
        }
        return try await collection.verify(token, as: OIDCClaims.self)
    }

    /// The `kid` of a JWT's header, read without trusting anything else in it.
    static func keyID(of token: String) -> String? {
        guard let header = token.split(separator: ".").first else { return nil }
        var base64 = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let json = try? JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
        return json.objectValue?["kid"]?.stringValue
    }

    private func currentKeys(forceRefresh: Bool) async throws -> JWTKeyCollection {
        if let keys, !forceRefresh { return keys }
        lastFetch = ContinuousClock.now
        do {
            let discovery = try await fetchJSON(settings.issuer.trimmingSuffix("/") + "/.well-known/openid-configuration")
            guard let jwksURI = discovery.objectValue?["jwks_uri"]?.stringValue else { throw Failure.issuerUnavailable }
            let jwksData = try await fetch(jwksURI)
            let jwks = try JSONDecoder().decode(JWKS.self, from: jwksData)
            let collection = JWTKeyCollection()
            var ids: Set<String> = []
            for jwk in jwks.keys {
                do {
                    try await collection.add(jwk: jwk)
                    if let kid = jwk.keyIdentifier?.string { ids.insert(kid) }
                } catch {
                    logger.warning("skipping unusable key in JWKS", metadata: ["error": .string("\(error)")])
                }
            }
            keys = collection
            knownKeyIDs = ids
            return collection
        } catch {
            logger.error("could not load the OIDC issuer's keys", metadata: ["error": .string(String(reflecting: error))])
            throw Failure.issuerUnavailable
        }
    }

    private func fetch(_ url: String) async throws -> Data {
        let request = HTTPClientRequest(url: url)
        let response = try await httpClient.execute(request, timeout: .seconds(5))
        guard response.status == .ok else { throw Failure.issuerUnavailable }
        return Data(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    private func fetchJSON(_ url: String) async throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: try await fetch(url))
    }

    static func describe(_ error: any Error) -> String {
        if let jwt = error as? JWTError {
            switch jwt.errorType {
            case .claimVerificationFailure: return "token is expired or not yet valid"
            case .signatureVerificationFailed: return "signature does not verify"
            case .unknownKID: return "token names an unknown key"
            default: return "token is malformed"
            }
        }
        return "token is malformed"
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
