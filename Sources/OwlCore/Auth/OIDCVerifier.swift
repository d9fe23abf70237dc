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

    /// Signature checks happen before this; `verify` covers time. Issuer and audience are checked by `OIDCVerifier`.
    public func verify(using algorithm: some JWTAlgorithm) async throws {
        // A minute of leeway for clock skew between the issuer and this server.
        try expiration.verifyNotExpired(currentDate: Date().addingTimeInterval(-60))
        try notBefore?.verifyNotBefore(currentDate: Date().addingTimeInterval(60))
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
    private var lastFetch: ContinuousClock.Instant?
    static let refetchInterval: Duration = .seconds(30)

    public init(settings: OIDCSettings, httpClient: HTTPClient, logger: Logger) {
        self.settings = settings
        self.httpClient = httpClient
        self.logger = logger
    }

    public enum Failure: Error, Equatable {
        case invalidToken(String)
        case issuerUnavailable
    }

    public func verify(_ token: String) async throws(Failure) -> OIDCClaims {
        let claims: OIDCClaims
        do {
            claims = try await verifySignature(token)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .invalidToken(Self.describe(error))
        }
        guard claims.issuer.value == settings.issuer else { throw .invalidToken("issuer does not match") }
        do { try claims.audience.verifyIntendedAudience(includes: settings.audience) } catch {
            throw .invalidToken("audience does not match")
        }
        return claims
    }

    private func verifySignature(_ token: String) async throws -> OIDCClaims {
        let collection = try await currentKeys(forceRefresh: false)
        do {
            return try await collection.verify(token, as: OIDCClaims.self)
        } catch let error as JWTError where error.errorType == .unknownKID {
            let now = ContinuousClock.now
            guard lastFetch.map({ now - $0 >= Self.refetchInterval }) ?? true else { throw error }
            logger.info("unknown key id in token; fetching the issuer's keys again")
            return try await currentKeys(forceRefresh: true).verify(token, as: OIDCClaims.self)
        }
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
            for jwk in jwks.keys {
                do { try await collection.add(jwk: jwk) } catch {
                    logger.warning("skipping unusable key in JWKS", metadata: ["error": .string("\(error)")])
                }
            }
            keys = collection
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
