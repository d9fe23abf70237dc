import Foundation
import Logging

/// A configuration problem found at start-up. `description` names the variable, so the operator can fix it from one line.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let variable: String
    public let problem: String
    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }
    public var description: String { "invalid configuration: \(variable): \(problem)" }
}

public enum LogFormat: String, Sendable { case json, text }

/// Everything a service reads from the environment, under its own prefix (`NIGHTOWL_`, `BOOKOWL_`, `TICKETOWL_`).
public struct ServiceConfig: Sendable {
    public var serviceName: String
    public var databaseURL: DatabaseURL
    public var listenHost: String
    public var listenPort: Int
    public var devMode: Bool
    public var oidc: OIDCSettings?
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    public var bodyLimitBytes: Int
    public var corsOrigins: [String]
    /// 32-byte key for AES-256-GCM encryption of tenant secrets.
    public var encryptionKey: SecretKey
    public var databasePoolSize: Int
    /// The address users and providers reach this service at (`https://owl.example.com`), for links in calendar
    /// feeds, messages and provider callbacks. Without it, links are built from the request's Host header.
    public var publicURL: String?
    /// `live` or `sandbox` per provider (`slack`, `mattermost`, `twilio`, `webhook`, `zammad`) from `<PREFIX>_<PROVIDER>_MODE`;
    /// a tenant's own `<provider>_mode` setting wins. Unset means sandbox.
    public var providerModes: [String: ProviderMode] = [:]
    /// How often `--mode worker` looks for work it was not woken for (`WORKER_POLL_SECONDS`).
    public var workerPollSeconds: Int = 30
    /// Where `--mode worker` serves `/metrics` and `/healthz` (`METRICS_LISTEN`; by default the API's host and its
    /// port + 1000, so that an API and a worker on one host never clash).
    public var metricsHost: String = "127.0.0.1"
    public var metricsPort: Int = 9080
    /// How long browser sessions last (`SESSION_IDLE_MINUTES`, `SESSION_MAX_HOURS`) and whether local accounts may sign in.
    public var sessions = SessionSettings()
    /// The public URLs of the other services' consoles (`NIGHTOWL_BOOKOWL_URL`, ...), by service name: the sidebar's
    /// links and `/auth/config`.
    public var serviceLinks: [String: String] = [:]

    public init(
        serviceName: String, databaseURL: DatabaseURL, listenHost: String = "127.0.0.1", listenPort: Int = 8080,
        devMode: Bool = false, oidc: OIDCSettings? = nil, logLevel: Logger.Level = .info, logFormat: LogFormat = .json,
        bodyLimitBytes: Int = 1 << 20, corsOrigins: [String] = [], encryptionKey: SecretKey, databasePoolSize: Int = 20,
        publicURL: String? = nil, providerModes: [String: ProviderMode] = [:], workerPollSeconds: Int = 30
    ) {
        self.workerPollSeconds = workerPollSeconds
        self.publicURL = publicURL
        self.providerModes = providerModes
        self.serviceName = serviceName
        self.databaseURL = databaseURL
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.devMode = devMode
        self.oidc = oidc
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.bodyLimitBytes = bodyLimitBytes
        self.corsOrigins = corsOrigins
        self.encryptionKey = encryptionKey
        self.databasePoolSize = databasePoolSize
    }

    /// The development key used when dev mode is on and no key is configured. Never valid outside dev mode.
    public static let devEncryptionKey = SecretKey(bytes: Array("owl-dev-encryption-key-32-bytes!".utf8))!

    /// Reads the configuration of one service from `environment`.
    /// - Parameters:
    ///   - prefix: `NIGHTOWL`, `BOOKOWL` or `TICKETOWL`.
    ///   - defaultPort: the port used when `<PREFIX>_LISTEN` is not set.
    public static func load(
        prefix: String, serviceName: String, defaultPort: Int, environment: [String: String]
    ) throws(ConfigError) -> ServiceConfig {
        let env = EnvironmentReader(prefix: prefix, environment: environment)
        let dbVar = env.name("DATABASE_URL")
        guard let rawURL = env.raw("DATABASE_URL") else {
            throw ConfigError(variable: dbVar, problem: "is required (postgres://user:password@host:port/database)")
        }
        let databaseURL: DatabaseURL
        do { databaseURL = try DatabaseURL(parsing: rawURL) } catch {
            throw ConfigError(variable: dbVar, problem: error.message)
        }
        let (host, port) = try env.listen(default: ("127.0.0.1", defaultPort))
        let devMode = try env.bool("DEV_MODE", default: false)
        let logLevel = try env.enumValue("LOG_LEVEL", default: devMode ? Logger.Level.debug : .info) { Logger.Level(rawValue: $0) }
        let logFormat = try env.enumValue("LOG_FORMAT", default: devMode ? LogFormat.text : .json) { LogFormat(rawValue: $0) }
        let bodyLimit = try env.int("BODY_LIMIT_BYTES", default: 1 << 20, range: 1024...(64 << 20))
        let poolSize = try env.int("DATABASE_POOL_SIZE", default: 20, range: 1...500)
        let cors = (env.raw("CORS_ORIGINS") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        for origin in cors where origin != "*" && URL(string: origin)?.scheme == nil {
            throw ConfigError(variable: env.name("CORS_ORIGINS"), problem: "'\(origin)' is not an origin such as https://owl.example.com")
        }
        let key: SecretKey
        if let rawKey = env.raw("ENCRYPTION_KEY") {
            guard let parsed = SecretKey(base64: rawKey) else {
                throw ConfigError(variable: env.name("ENCRYPTION_KEY"), problem: "must be 32 bytes, base64-encoded (openssl rand -base64 32)")
            }
            key = parsed
        } else if devMode {
            key = devEncryptionKey
        } else {
            throw ConfigError(variable: env.name("ENCRYPTION_KEY"), problem: "is required outside dev mode (openssl rand -base64 32)")
        }
        var oidc: OIDCSettings?
        if let issuer = env.raw("OIDC_ISSUER") {
            guard let issuerURL = URL(string: issuer), issuerURL.scheme == "https" || issuerURL.scheme == "http" else {
                throw ConfigError(variable: env.name("OIDC_ISSUER"), problem: "must be an http(s) URL")
            }
            guard let audience = env.raw("OIDC_AUDIENCE") else {
                throw ConfigError(variable: env.name("OIDC_AUDIENCE"), problem: "is required when \(env.name("OIDC_ISSUER")) is set")
            }
            oidc = OIDCSettings(
                issuer: issuer, audience: audience,
                tenantClaim: env.raw("OIDC_TENANT_CLAIM") ?? "tenant",
                roleClaim: env.raw("OIDC_ROLE_CLAIM") ?? "role",
                clientID: env.raw("OIDC_CLIENT_ID"), clientSecret: env.raw("OIDC_CLIENT_SECRET"), redirectURL: env.raw("OIDC_REDIRECT_URL")
            )
        }
        let workerPoll = try env.int("WORKER_POLL_SECONDS", default: 30, range: 1...3_600)
        let (metricsHost, metricsPort) = try env.listen("METRICS_LISTEN", default: (host, port <= 64_535 ? port + 1_000 : port - 1_000))
        var providerModes: [String: ProviderMode] = [:]
        for provider in ["slack", "mattermost", "twilio", "webhook", "zammad"] {
            guard let raw = env.raw("\(provider.uppercased())_MODE") else { continue }
            guard let mode = ProviderMode(rawValue: raw) else {
                throw ConfigError(variable: env.name("\(provider.uppercased())_MODE"), problem: "must be live or sandbox")
            }
            providerModes[provider] = mode
        }
        var publicURL: String?
        if let raw = env.raw("PUBLIC_URL") {
            guard let url = URL(string: raw), url.scheme == "https" || url.scheme == "http", url.host != nil else {
                throw ConfigError(variable: env.name("PUBLIC_URL"), problem: "must be an http(s) URL such as https://owl.example.com")
            }
            publicURL = raw.hasSuffix("/") ? String(raw.dropLast()) : raw
        }
        var serviceLinks: [String: String] = [:]
        for other in ["nightowl", "bookowl", "ticketowl"] where other != serviceName {
            guard let raw = env.raw("\(other.uppercased())_URL") else { continue }
            guard let url = URL(string: raw), url.scheme == "https" || url.scheme == "http", url.host != nil else {
                throw ConfigError(variable: env.name("\(other.uppercased())_URL"), problem: "must be an http(s) URL such as https://bookowl.example.com")
            }
            serviceLinks[other] = raw.hasSuffix("/") ? String(raw.dropLast()) : raw
        }
        var config = ServiceConfig(
            serviceName: serviceName, databaseURL: databaseURL, listenHost: host, listenPort: port, devMode: devMode,
            oidc: oidc, logLevel: logLevel, logFormat: logFormat, bodyLimitBytes: bodyLimit, corsOrigins: cors,
            encryptionKey: key, databasePoolSize: poolSize, publicURL: publicURL, providerModes: providerModes,
            workerPollSeconds: workerPoll
        )
        config.metricsHost = metricsHost
        config.serviceLinks = serviceLinks
        config.metricsPort = metricsPort
        config.sessions = SessionSettings(
            idleTimeout: TimeInterval(try env.int("SESSION_IDLE_MINUTES", default: 720, range: 5...43_200) * 60),
            lifetime: TimeInterval(try env.int("SESSION_MAX_HOURS", default: 168, range: 1...8_760) * 3_600),
            localAccounts: try env.bool("LOCAL_SIGN_IN", default: true)
        )
        if config.sessions.idleTimeout > config.sessions.lifetime {
            throw ConfigError(variable: env.name("SESSION_IDLE_MINUTES"), problem: "must not be longer than \(env.name("SESSION_MAX_HOURS"))")
        }
        return config
    }
}

/// Reads prefixed variables and turns every malformed value into a `ConfigError` naming it.
struct EnvironmentReader {
    let prefix: String
    let environment: [String: String]

    func name(_ suffix: String) -> String { "\(prefix)_\(suffix)" }

    func raw(_ suffix: String) -> String? {
        guard let value = environment[name(suffix)]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    func bool(_ suffix: String, default value: Bool) throws(ConfigError) -> Bool {
        guard let raw = raw(suffix) else { return value }
        switch raw.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigError(variable: name(suffix), problem: "'\(raw)' is not a boolean (true/false)")
        }
    }

    func int(_ suffix: String, default value: Int, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let raw = raw(suffix) else { return value }
        guard let parsed = Int(raw), range.contains(parsed) else {
            throw ConfigError(variable: name(suffix), problem: "'\(raw)' is not an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return parsed
    }

    func enumValue<T>(_ suffix: String, default value: T, _ parse: (String) -> T?) throws(ConfigError) -> T {
        guard let raw = raw(suffix) else { return value }
        guard let parsed = parse(raw.lowercased()) else {
            throw ConfigError(variable: name(suffix), problem: "'\(raw)' is not an accepted value")
        }
        return parsed
    }

    /// `host:port`, `:port` or `port`.
    func listen(_ suffix: String = "LISTEN", default value: (String, Int)) throws(ConfigError) -> (String, Int) {
        guard let raw = raw(suffix) else { return value }
        let parts = raw.split(separator: ":", omittingEmptySubsequences: false)
        let host = parts.count > 1 ? parts.dropLast().joined(separator: ":") : value.0
        guard let portText = parts.last, let port = Int(portText), (1...65535).contains(port) else {
            throw ConfigError(variable: name(suffix), problem: "'\(raw)' is not host:port")
        }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

/// OIDC settings: tokens must come from `issuer` and name `audience`.
public struct OIDCSettings: Sendable {
    public var issuer: String
    public var audience: String
    public var tenantClaim: String
    public var roleClaim: String
    /// How soon the keys may be fetched again when a token names an unknown key id.
    public var minimumKeyRefresh: Duration
    /// The consoles' client at the issuer (`OIDC_CLIENT_ID`): with it, the sign-in page offers single sign-on
    /// (authorization code with PKCE). `clientSecret` for a confidential client; `redirectURL` where the issuer sends
    /// the browser back (by default `PUBLIC_URL` or the request's host, plus `/auth/oidc/callback`).
    public var clientID: String?
    public var clientSecret: String?
    public var redirectURL: String?
    public init(issuer: String, audience: String, tenantClaim: String = "tenant", roleClaim: String = "role",
                minimumKeyRefresh: Duration = .seconds(30), clientID: String? = nil, clientSecret: String? = nil, redirectURL: String? = nil) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.redirectURL = redirectURL
        self.issuer = issuer
        self.audience = audience
        self.tenantClaim = tenantClaim
        self.roleClaim = roleClaim
        self.minimumKeyRefresh = minimumKeyRefresh
    }
}
