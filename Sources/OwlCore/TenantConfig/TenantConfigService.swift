import Foundation

/// Reads and changes a tenant's settings; seals secrets with AES-256-GCM bound to the tenant and the secret's name.
public struct TenantConfigService: Sendable {
    let store: TenantStore
    let key: SecretKey
    let clock: WallClock

    public init(database: Database, key: SecretKey, clock: WallClock) {
        store = TenantStore(database: database)
        self.key = key
        self.clock = clock
    }

    /// The stored document: `{"settings": {...}, "secrets": {"name": {"sealed": "...", "updated_at": "..."}}}`.
    struct Stored {
        var settings: [String: JSONValue]
        var secrets: [String: [String: JSONValue]]

        init(_ value: JSONValue) {
            let object = value.objectValue ?? [:]
            settings = object["settings"]?.objectValue ?? [:]
            secrets = (object["secrets"]?.objectValue ?? [:]).compactMapValues(\.objectValue)
        }

        var json: JSONValue {
            .object(["settings": .object(settings), "secrets": .object(secrets.mapValues { .object($0) })])
        }
    }

    func view(tenantID: UUID) async throws -> TenantConfigView {
        let stored = Stored(try await store.config(tenantID: tenantID))
        var secrets: [String: TenantConfigView.SecretState] = [:]
        for name in TenantSettingsSchema.secrets {
            let entry = stored.secrets[name]
            secrets[name] = .init(configured: entry?["sealed"] != nil, updatedAt: entry?["updated_at"]?.stringValue.flatMap(Timestamp.parse))
        }
        return TenantConfigView(settings: stored.settings, secrets: secrets)
    }

    /// Applies a change and returns the new view plus an audit diff that names changed secrets without their values.
    func update(tenantID: UUID, _ change: UpdateTenantConfigRequest) async throws -> (TenantConfigView, JSONValue) {
        var validated: [String: JSONValue?] = [:]
        for (name, value) in change.settings ?? [:] {
            validated[name] = value.isNull ? .some(nil) : try TenantSettingsSchema.validate(name, value)
        }
        var secretValues: [String: String?] = [:]
        for (name, value) in change.secrets ?? [:] {
            guard TenantSettingsSchema.secrets.contains(name) else {
                throw APIError.validation("unknown secret '\(name)'; known secrets: \(TenantSettingsSchema.secrets.sorted().joined(separator: ", "))", field: "secrets.\(name)")
            }
            switch value {
            case .null: secretValues[name] = .some(nil)
            case .string(let s) where !s.isEmpty && s.count <= 4096: secretValues[name] = s
            default: throw APIError.validation("secret \(name) must be a non-empty string of at most 4096 characters, or null", field: "secrets.\(name)")
            }
        }
        var stored = Stored(try await store.config(tenantID: tenantID))
        var diff: [String: JSONValue] = [:]
        for (name, value) in validated {
            let old = stored.settings[name]
            stored.settings[name] = value
            if old != value { diff["settings.\(name)"] = .object(["old": old ?? .null, "new": value ?? .null]) }
        }
        let now = Timestamp.format(clock.now)
        for (name, value) in secretValues {
            if let value {
                stored.secrets[name] = ["sealed": .string(try key.seal(value, context: Self.context(tenantID, name))), "updated_at": .string(now)]
                diff["secrets.\(name)"] = .string("set")
            } else if stored.secrets.removeValue(forKey: name) != nil {
                diff["secrets.\(name)"] = .string("removed")
            }
        }
        try await store.setConfig(tenantID: tenantID, stored.json)
        return (try await view(tenantID: tenantID), .object(diff))
    }

    /// A secret in clear, for the code that calls the provider; nil when not configured.
    public func secret(_ name: String, tenantID: UUID) async throws -> String? {
        let stored = Stored(try await store.config(tenantID: tenantID))
        guard let sealed = stored.secrets[name]?["sealed"]?.stringValue else { return nil }
        return try key.open(sealed, context: Self.context(tenantID, name))
    }

    /// One setting's value, or nil.
    public func setting(_ name: String, tenantID: UUID) async throws -> JSONValue? {
        Stored(try await store.config(tenantID: tenantID)).settings[name]
    }

    static func context(_ tenantID: UUID, _ name: String) -> String { "owl-tenant-secret:\(tenantID.uuidString.lowercased()):\(name)" }
}
