/// Tenant roles, from least to most privileged. A route names its minimum role.
public enum Role: String, StrictEnum, Comparable {
    case readonly, engineer, manager, admin

    var rank: Int {
        switch self {
        case .readonly: 0
        case .engineer: 1
        case .manager: 2
        case .admin: 3
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
}

/// What an API key may reach besides its role: `webhook` keys reach only ingestion routes.
public enum APIKeyScope: String, StrictEnum {
    case webhook
}

/// How the caller proved who they are.
public enum AuthMethod: String, Sendable, Codable {
    case jwt, apiKey = "api_key", devHeader = "dev_header", session
}

/// The authenticated caller of a tenant-scoped request.
public struct Principal: Sendable, Equatable {
    public var tenant: Tenant
    public var role: Role
    public var method: AuthMethod
    /// Who to name in audit entries: a user's email or subject, or `api_key:<prefix>`.
    public var actor: String
    public var userID: UUID?
    public var email: String?
    public var apiKeyID: UUID?
    /// The key's prefix (`ow_…`), by which per-key settings are addressed.
    public var apiKeyPrefix: String?
    public var scopes: [APIKeyScope]
    /// A browser session's CSRF token, which every state-changing request of that session must carry.
    public var csrfToken: String?
    /// The browser session's public id.
    public var sessionID: UUID?

    public init(tenant: Tenant, role: Role, method: AuthMethod, actor: String, userID: UUID? = nil, email: String? = nil,
                apiKeyID: UUID? = nil, apiKeyPrefix: String? = nil, scopes: [APIKeyScope] = []) {
        self.tenant = tenant
        self.role = role
        self.method = method
        self.actor = actor
        self.userID = userID
        self.email = email
        self.apiKeyID = apiKeyID
        self.apiKeyPrefix = apiKeyPrefix
        self.scopes = scopes
    }

    /// A key limited to `webhook` may only call ingestion routes.
    public var isWebhookOnly: Bool { scopes.contains(.webhook) }
}

import Foundation
