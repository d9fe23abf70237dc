import Foundation

/// Whether an external provider (Slack, Mattermost, Twilio, outbound webhooks, Zammad, ...) is really called. In
/// `sandbox`, the default, what would be sent is recorded instead, so a demo or a new tenant never reaches anyone by
/// accident and the console can show what it would have sent.
public enum ProviderMode: String, Sendable, Codable, CaseIterable {
    case live, sandbox

    /// The process's defaults (`<SERVICE>_<PROVIDER>_MODE`) under the tenant's own `<provider>_mode` setting, which wins;
    /// with neither, sandbox.
    public static func resolve(tenant: ProviderMode?, process: ProviderMode?) -> ProviderMode { tenant ?? process ?? .sandbox }
}

extension TenantConfigService {
    /// The tenant's `<provider>_mode` setting, if it sets one.
    public func providerMode(_ provider: String, tenantID: UUID) async throws -> ProviderMode? {
        guard case .string(let raw)? = try await setting("\(provider)_mode", tenantID: tenantID) else { return nil }
        return ProviderMode(rawValue: raw)
    }
}
