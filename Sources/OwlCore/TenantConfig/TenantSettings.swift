import Foundation

/// The kind of value a tenant setting holds; each kind has its own validation.
public enum SettingKind: Sendable {
    case text(maxLength: Int)
    case url
    case integer(ClosedRange<Int>)
    case choice([String])
    case timezone
    case phone
    case flag
    /// `{"<api key prefix>": {"<field>": "<name in the payload>"}}`
    case fieldMappings
}

/// The settings a tenant may store, and which of them are secrets (sealed at rest, never returned).
public enum TenantSettingsSchema {
    public static let settings: [String: SettingKind] = [
        "display_name": .text(maxLength: 200),
        "default_timezone": .timezone,
        "retention_days_alerts": .integer(1...3650),
        "retention_days_audit": .integer(1...3650),
        "escalation_severity_threshold": .choice(["critical", "major", "warning", "info"]),
        "slack_workspace_url": .url,
        "slack_alert_channel": .text(maxLength: 80),
        "slack_mode": .choice(ProviderMode.allCases.map(\.rawValue)),
        "mattermost_mode": .choice(ProviderMode.allCases.map(\.rawValue)),
        "twilio_mode": .choice(ProviderMode.allCases.map(\.rawValue)),
        "webhook_mode": .choice(ProviderMode.allCases.map(\.rawValue)),
        "slack_api_url": .url,
        "twilio_api_url": .url,
        "twilio_account_sid": .text(maxLength: 64),
        "twilio_from_number": .phone,
        "bookowl_api_url": .url,
        "ticketowl_api_url": .url,
        "nightowl_api_url": .url,
        "zammad_url": .url,
        "zammad_mode": .choice(ProviderMode.allCases.map(\.rawValue)),
        "public_base_url": .url,
        "agent_auto_kb": .flag,
        "generic_field_mappings": .fieldMappings,
    ]

    public static let secrets: Set<String> = [
        "bookowl_api_key", "nightowl_api_key", "ticketowl_api_key", "slack_bot_token", "slack_signing_secret",
        "twilio_auth_token", "mattermost_webhook_url", "zammad_token", "webhook_signing_secret",
    ]

    /// Checks one value against its kind; the error names the setting.
    public static func validate(_ key: String, _ value: JSONValue) throws -> JSONValue {
        guard let kind = settings[key] else {
            throw APIError.validation("unknown setting '\(key)'; known settings: \(settings.keys.sorted().joined(separator: ", "))", field: "settings.\(key)")
        }
        let field = "settings.\(key)"
        switch (kind, value) {
        case (.text(let max), .string(let s)) where !s.isEmpty && s.count <= max:
            return value
        case (.url, .string(let s)):
            guard s.count <= 2048, let url = URL(string: s), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw APIError.validation("\(key) must be an http(s) URL", field: field)
            }
            return value
        case (.integer(let range), .number(let n)) where n.rounded() == n && range.contains(Int(n)):
            return value
        case (.choice(let options), .string(let s)) where options.contains(s):
            return value
        case (.timezone, .string(let s)):
            guard IANAZone.isValid(s) else {
                throw APIError.validation("\(key) must be an IANA time zone such as Europe/Berlin", field: field)
            }
            return value
        case (.phone, .string(let s)):
            guard PhoneNumber.isE164(s) else { throw APIError.validation("\(key) must be an E.164 number such as +4930123456", field: field) }
            return value
        case (.flag, .bool):
            return value
        case (.fieldMappings, .object(let keys)):
            let fields: Set<String> = ["title", "severity", "fingerprint", "description", "labels", "source", "status", "service",
                                       "cluster", "namespace", "runbook_url", "url", "timestamp", "agent_metadata"]
            for (prefix, mapping) in keys {
                guard prefix.hasPrefix("ow_"), let map = mapping.objectValue,
                      map.allSatisfy({ fields.contains($0.key) && ($0.value.stringValue.map { !$0.isEmpty && $0.count <= 200 } ?? false) }) else {
                    throw APIError.validation("\(key): each API key prefix (ow_…) maps fields (\(fields.sorted().joined(separator: ", "))) to payload names", field: field)
                }
            }
            return value
        default:
            throw APIError.validation("\(key) has an invalid value (\(describe(kind)))", field: field)
        }
    }

    static func describe(_ kind: SettingKind) -> String {
        switch kind {
        case .text(let max): "a non-empty string of at most \(max) characters"
        case .url: "an http(s) URL"
        case .integer(let r): "an integer in \(r.lowerBound)...\(r.upperBound)"
        case .choice(let options): "one of \(options.joined(separator: ", "))"
        case .timezone: "an IANA time zone"
        case .phone: "an E.164 phone number"
        case .flag: "true or false"
        case .fieldMappings: "an object of API key prefixes to field mappings"
        }
    }
}

/// E.164: a plus sign and 8 to 15 digits, the first not zero.
public enum PhoneNumber {
    public static func isE164(_ raw: String) -> Bool {
        guard raw.first == "+" else { return false }
        let digits = raw.dropFirst()
        return (8...15).contains(digits.count) && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber) && digits.first != "0"
    }
}

/// Body of `PUT /api/v1/admin/config`: keys present are set; a null removes a setting or secret.
struct UpdateTenantConfigRequest: Decodable {
    var settings: [String: JSONValue]?
    var secrets: [String: JSONValue]?
}

/// What `GET /api/v1/admin/config` shows: settings in full, secrets only as "configured or not".
struct TenantConfigView: Encodable {
    struct SecretState: Encodable {
        var configured: Bool
        var updatedAt: Date?
        enum CodingKeys: String, CodingKey { case configured, updatedAt = "updated_at" }
    }
    var settings: [String: JSONValue]
    var secrets: [String: SecretState]
}
