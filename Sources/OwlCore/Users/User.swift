import Foundation

/// A person of a tenant: who can be paged, who acknowledged, who a token belongs to.
public struct User: Sendable, Codable, Equatable {
    public var id: UUID
    public var externalID: String?
    public var email: String
    public var displayName: String
    public var role: Role
    public var isActive: Bool
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, email, role
        case externalID = "external_id", displayName = "display_name", isActive = "is_active"
        case createdAt = "created_at", updatedAt = "updated_at"
    }
}

/// Body of `POST /api/v1/users`.
struct CreateUserRequest: Decodable {
    var email: String
    var displayName: String
    var role: Role
    var externalID: String?
    enum CodingKeys: String, CodingKey { case email, role, displayName = "display_name", externalID = "external_id" }

    func validated() throws -> CreateUserRequest {
        var copy = self
        copy.email = try UserRules.email(email)
        copy.displayName = try UserRules.displayName(displayName)
        copy.externalID = try externalID.map(UserRules.externalID)
        return copy
    }
}

/// Body of `PUT /api/v1/users/{id}`: fields present are changed, the others kept.
struct UpdateUserRequest: Decodable {
    var email: String?
    var displayName: String?
    var role: Role?
    var isActive: Bool?
    enum CodingKeys: String, CodingKey { case email, role, displayName = "display_name", isActive = "is_active" }

    func validated() throws -> UpdateUserRequest {
        var copy = self
        copy.email = try email.map(UserRules.email)
        copy.displayName = try displayName.map(UserRules.displayName)
        return copy
    }
}

/// Validation rules for user fields.
enum UserRules {
    static func email(_ raw: String) throws -> String {
        let value = raw.trimmingCharacters(in: .whitespaces)
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard value.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !value.contains(where: \.isWhitespace) else {
            throw APIError.validation("email is not a valid address", field: "email")
        }
        return value
    }

    static func displayName(_ raw: String) throws -> String {
        let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(value.count) else { throw APIError.validation("display_name must be 1 to 200 characters", field: "display_name") }
        return value
    }

    static func externalID(_ raw: String) throws -> String {
        guard (1...255).contains(raw.count) else { throw APIError.validation("external_id must be 1 to 255 characters", field: "external_id") }
        return raw
    }
}
