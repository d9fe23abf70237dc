import Foundation
import OwlCore

/// How a tier reaches people.
public enum NotificationMethod: String, StrictEnum, Comparable {
    case slackDM = "slack_dm", slackChannel = "slack_channel", mattermost, sms, phone, webhook

    /// Methods that reach a person (the others reach a channel or an endpoint).
    var isPersonal: Bool { self == .slackDM || self == .sms || self == .phone }

    var provider: String {
        switch self {
        case .slackDM, .slackChannel: "slack"
        case .mattermost: "mattermost"
        case .sms, .phone: "twilio"
        case .webhook: "webhook"
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Who a tier notifies.
public enum EscalationTarget: Sendable, Hashable, Codable {
    case rosterPrimary(UUID)
    case rosterSecondary(UUID)
    case user(UUID)
    case channel(String)
    case webhook(String)

    enum CodingKeys: String, CodingKey { case type, rosterID = "roster_id", userID = "user_id", channel, url }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "roster_primary": self = .rosterPrimary(try c.decode(UUID.self, forKey: .rosterID))
        case "roster_secondary": self = .rosterSecondary(try c.decode(UUID.self, forKey: .rosterID))
        case "user": self = .user(try c.decode(UUID.self, forKey: .userID))
        case "channel": self = .channel(try c.decode(String.self, forKey: .channel))
        case "webhook": self = .webhook(try c.decode(String.self, forKey: .url))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c,
                debugDescription: "'\(type)' is not one of: roster_primary, roster_secondary, user, channel, webhook")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .rosterPrimary(let id): try c.encode("roster_primary", forKey: .type); try c.encode(id, forKey: .rosterID)
        case .rosterSecondary(let id): try c.encode("roster_secondary", forKey: .type); try c.encode(id, forKey: .rosterID)
        case .user(let id): try c.encode("user", forKey: .type); try c.encode(id, forKey: .userID)
        case .channel(let name): try c.encode("channel", forKey: .type); try c.encode(name, forKey: .channel)
        case .webhook(let url): try c.encode("webhook", forKey: .type); try c.encode(url, forKey: .url)
        }
    }
}

public struct EscalationTier: Sendable, Hashable, Codable {
    public var timeoutMinutes: Int
    public var targets: [EscalationTarget]
    public var methods: [NotificationMethod]

    enum CodingKeys: String, CodingKey { case targets, methods, timeoutMinutes = "timeout_minutes" }
}

/// An escalation policy as stored and shown.
public struct EscalationPolicy: Sendable, Equatable, Codable {
    public var id: UUID
    public var name: String
    public var description: String
    public var severityThreshold: Severity
    public var repeatCount: Int
    public var isDefault: Bool
    public var tiers: [EscalationTier]
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, description, tiers
        case severityThreshold = "severity_threshold", repeatCount = "repeat_count", isDefault = "is_default"
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    var schedule: EscalationSchedule {
        EscalationSchedule(timeouts: tiers.map { Double($0.timeoutMinutes) * 60 }, repeatCount: repeatCount)
    }
}

/// Body of `POST` and `PUT /api/v1/escalation-policies[/{id}]` (on PUT, fields present are changed).
struct EscalationPolicyInput: Decodable, Sendable {
    var name: String?
    var description: String?
    var severityThreshold: Severity?
    var repeatCount: Int?
    var isDefault: Bool?
    var tiers: [EscalationTier]?

    enum CodingKeys: String, CodingKey {
        case name, description, tiers
        case severityThreshold = "severity_threshold", repeatCount = "repeat_count", isDefault = "is_default"
    }

    /// The policy after applying this input to `current` (or to defaults when creating).
    func applied(to current: EscalationPolicy?, at now: Date) throws -> EscalationPolicy {
        guard let name = try name.map({ try Field.requiredText($0, "name", max: 200) }) ?? current?.name else {
            throw APIError.validation("name is required", field: "name")
        }
        guard let tiers = tiers ?? current?.tiers else { throw APIError.validation("tiers are required", field: "tiers") }
        let repeatCount = repeatCount ?? current?.repeatCount ?? 0
        guard (0...10).contains(repeatCount) else { throw APIError.validation("repeat_count must be 0 to 10", field: "repeat_count") }
        return EscalationPolicy(
            id: current?.id ?? UUID(), name: name,
            description: try description.map { try Field.optionalText($0, "description", max: 2_000) } ?? current?.description ?? "",
            severityThreshold: severityThreshold ?? current?.severityThreshold ?? .critical, repeatCount: repeatCount,
            isDefault: isDefault ?? current?.isDefault ?? false, tiers: try EscalationRules.tiers(tiers),
            createdAt: current?.createdAt ?? now, updatedAt: now)
    }
}

enum EscalationRules {
    static func tiers(_ tiers: [EscalationTier]) throws -> [EscalationTier] {
        guard (1...10).contains(tiers.count) else { throw APIError.validation("a policy has 1 to 10 tiers", field: "tiers") }
        return try tiers.enumerated().map { index, tier in
            let field = "tiers[\(index)]"
            guard (1...1_440).contains(tier.timeoutMinutes) else {
                throw APIError.validation("timeout_minutes must be 1 to 1440", field: "\(field).timeout_minutes")
            }
            guard (1...20).contains(tier.targets.count) else { throw APIError.validation("a tier has 1 to 20 targets", field: "\(field).targets") }
            guard !tier.methods.isEmpty, Set(tier.methods).count == tier.methods.count else {
                throw APIError.validation("a tier needs at least one method, each once", field: "\(field).methods")
            }
            let hasPeople = tier.targets.contains { if case .channel = $0 { false } else if case .webhook = $0 { false } else { true } }
            if tier.methods.contains(where: \.isPersonal), !hasPeople {
                throw APIError.validation("slack_dm, sms and phone need a person target (roster_primary, roster_secondary or user)", field: "\(field).targets")
            }
            if tier.methods.contains(.webhook), !tier.targets.contains(where: { if case .webhook = $0 { true } else { false } }) {
                throw APIError.validation("the webhook method needs a webhook target with its url", field: "\(field).targets")
            }
            for target in tier.targets {
                switch target {
                case .channel(let name): _ = try RosterRules.slackChannel(name, field: "\(field).targets")
                case .webhook(let url):
                    guard url.count <= 2_048, let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                        throw APIError.validation("a webhook target needs an http(s) url", field: "\(field).targets")
                    }
                default: break
                }
            }
            return tier
        }
    }
}
