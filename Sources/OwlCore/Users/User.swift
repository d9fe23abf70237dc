import Foundation

/// A person of a tenant: who can be paged, who acknowledged, who a token belongs to.
public struct User: Sendable, Codable, Equatable {
    public var id: UUID
    public var externalID: String?
    public var email: String
    public var displayName: String
    public var role: Role
    public var isActive: Bool
    /// IANA zone, for showing shifts in the person's local time.
    public var timezone: String
    /// E.164 (`+4915112345678`), for calls and SMS.
    public var phone: String?
    /// Slack member id (`U012AB3CD`), for direct messages.
    public var slackUserID: String?
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, email, role, timezone, phone
        case externalID = "external_id", displayName = "display_name", isActive = "is_active", slackUserID = "slack_user_id"
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    /// Absent values are written as `null`, so clients see every field.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(externalID, forKey: .externalID)
        try c.encode(email, forKey: .email)
        try c.encode(displayName, forKey: .displayName)
        try c.encode(role, forKey: .role)
        try c.encode(isActive, forKey: .isActive)
        try c.encode(timezone, forKey: .timezone)
        try c.encode(phone, forKey: .phone)
        try c.encode(slackUserID, forKey: .slackUserID)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}

/// Body of `POST /api/v1/users`.
struct CreateUserRequest: Decodable {
    var email: String
    var displayName: String
    var role: Role
    var externalID: String?
    var timezone: String?
    var phone: String?
    var slackUserID: String?
    enum CodingKeys: String, CodingKey {
        case email, role, timezone, phone, displayName = "display_name", externalID = "external_id", slackUserID = "slack_user_id"
    }

    func validated() throws -> CreateUserRequest {
        var copy = self
        copy.email = try UserRules.email(email)
        copy.displayName = try UserRules.displayName(displayName)
        copy.externalID = try externalID.map(UserRules.externalID)
        copy.timezone = try timezone.map(UserRules.timezone)
        copy.phone = try phone.map(UserRules.phone)
        copy.slackUserID = try slackUserID.map(UserRules.slackUserID)
        return copy
    }
}

/// Body of `PUT /api/v1/users/{id}`: fields present are changed, the others kept.
struct UpdateUserRequest: Decodable {
    var email: String?
    var displayName: String?
    var role: Role?
    var isActive: Bool?
    var timezone: String?
    /// Present as `null` clears the phone; absent keeps it.
    var phone: Patch<String> = .keep
    var slackUserID: Patch<String> = .keep
    enum CodingKeys: String, CodingKey {
        case email, role, timezone, phone, displayName = "display_name", isActive = "is_active", slackUserID = "slack_user_id"
    }

    init(email: String? = nil, displayName: String? = nil, role: Role? = nil, isActive: Bool? = nil) {
        self.email = email
        self.displayName = displayName
        self.role = role
        self.isActive = isActive
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        email = try c.decodeIfPresent(String.self, forKey: .email)
        displayName = try c.decodeIfPresent(String.self, forKey: .displayName)
        role = try c.decodeIfPresent(Role.self, forKey: .role)
        isActive = try c.decodeIfPresent(Bool.self, forKey: .isActive)
        timezone = try c.decodeIfPresent(String.self, forKey: .timezone)
        phone = try Patch(c, .phone)
        slackUserID = try Patch(c, .slackUserID)
    }

    func validated() throws -> UpdateUserRequest {
        var copy = self
        copy.email = try email.map(UserRules.email)
        copy.displayName = try displayName.map(UserRules.displayName)
        copy.timezone = try timezone.map(UserRules.timezone)
        copy.phone = try phone.map(UserRules.phone)
        copy.slackUserID = try slackUserID.map(UserRules.slackUserID)
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

    /// An IANA zone name such as `Europe/Berlin` (or `UTC`); abbreviations like `CET` are refused.
    static func timezone(_ raw: String) throws -> String {
        guard IANAZone.isValid(raw) else {
            throw APIError.validation("timezone must be an IANA zone name such as Europe/Berlin", field: "timezone")
        }
        return raw
    }

    /// E.164: a plus, a country code and at most 15 digits in all; spaces, dashes and brackets are removed first.
    static func phone(_ raw: String) throws -> String {
        let compact = raw.filter { !" -().".contains($0) }
        guard PhoneNumber.isE164(compact) else {
            throw APIError.validation("phone must be in E.164 form, such as +4915112345678", field: "phone")
        }
        return compact
    }

    static func slackUserID(_ raw: String) throws -> String {
        guard let first = raw.first, "UW".contains(first), (3...21).contains(raw.count),
              raw.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) else {
            throw APIError.validation("slack_user_id must be a Slack member id such as U012AB3CD", field: "slack_user_id")
        }
        return raw
    }

    static func externalID(_ raw: String) throws -> String {
        guard (1...255).contains(raw.count) else { throw APIError.validation("external_id must be 1 to 255 characters", field: "external_id") }
        return raw
    }
}
