import Foundation
import PostgresNIO

/// A parsed `postgres://user:password@host:port/database?sslmode=...` URL.
public struct DatabaseURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var requireTLS: Bool

    public struct ParseError: Error { public let message: String }

    public init(host: String, port: Int, username: String, password: String?, database: String, requireTLS: Bool = false) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.requireTLS = requireTLS
    }

    public init(parsing text: String) throws(ParseError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
              scheme == "postgres" || scheme == "postgresql" else {
            throw ParseError(message: "must be a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else { throw ParseError(message: "has no host") }
        guard let user = components.user, !user.isEmpty else { throw ParseError(message: "has no user name") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw ParseError(message: "has no database name") }
        let sslmode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        guard ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(sslmode) else {
            throw ParseError(message: "sslmode '\(sslmode)' is unknown")
        }
        self.init(
            host: host, port: components.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding, database: database,
            requireTLS: ["require", "verify-ca", "verify-full"].contains(sslmode)
        )
    }

    /// The same server, another database (used to reach `postgres` for CREATE DATABASE).
    public func with(database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }

    public var urlString: String {
        var text = "postgres://\(username)"
        if let password { text += ":\(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        return text + "@\(host):\(port)/\(database)"
    }

    public func clientConfiguration() -> PostgresClient.Configuration {
        PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database,
            tls: requireTLS ? .require(.makeClientConfiguration()) : .disable
        )
    }
}
