import Foundation
import OwlCore

/// A tenant's provider modes and defaults. A provider is live only when its mode setting says `live`; anything not
/// configured is a sandbox that records what it would send.
struct ProviderSettings: Sendable, Equatable {
    var modes: [String: ProviderMode] = [:]
    var defaultSlackChannel: String?

    /// `defaults` are the process's modes (`NIGHTOWL_<PROVIDER>_MODE`); the tenant's settings win.
    static func load(_ config: TenantConfigService, tenant: Tenant, defaults: [String: ProviderMode] = [:]) async throws -> ProviderSettings {
        var settings = ProviderSettings(modes: defaults)
        for provider in ["slack", "mattermost", "twilio", "webhook"] {
            settings.modes[provider] = ProviderMode.resolve(tenant: try await config.providerMode(provider, tenantID: tenant.id),
                                                            process: defaults[provider])
        }
        if case .string(let channel)? = try await config.setting("slack_alert_channel", tenantID: tenant.id) {
            settings.defaultSlackChannel = channel.hasPrefix("#") ? String(channel.dropFirst()) : channel
        }
        return settings
    }

    func mode(for method: NotificationMethod) -> ProviderMode { modes[method.provider] ?? .sandbox }
}

/// The stored body of an outbox row: everything the provider needs, in its own format.
enum OutboundPayload {
    static func render(_ method: NotificationMethod, notice: AlertNotice, recipient: String) -> JSONValue {
        var payload: [String: JSONValue] = ["alert": noticeJSON(notice)]
        switch method {
        case .slackDM, .slackChannel: payload["slack"] = AlertMessages.slack(notice, channel: recipient)
        case .mattermost: payload["mattermost"] = AlertMessages.mattermost(notice)
        case .sms: payload["sms"] = .string(AlertMessages.sms(notice))
        case .phone: payload["speech"] = .string(AlertMessages.speech([notice]))
        case .webhook: payload["webhook"] = AlertMessages.webhookEvent(notice)
        }
        return .object(payload)
    }

    /// The notice itself, so bundles can be rendered again from several rows.
    static func noticeJSON(_ n: AlertNotice) -> JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return .object([
            "alert_id": .string(n.alertID.uuidString.lowercased()), "title": .string(n.title), "severity": .string(n.severity.rawValue),
            "service": text(n.service), "cluster": text(n.cluster), "namespace": text(n.namespace), "solution": text(n.solution),
            "runbook_url": text(n.runbookURL), "on_call": text(n.onCallName), "on_call_slack_id": text(n.onCallSlackID),
            "tier": .number(Double(n.tier + 1)), "repeat": .number(Double(n.repetition)), "link": text(n.link),
        ])
    }

    /// A row written by `slack_follow_up` (migration 0015): an update of a Slack message already sent about the alert.
    static func isSlackFollowUp(_ payload: JSONValue) -> Bool { payload.objectValue?["slack_update"] != nil }

    /// A row written by `slack_thread_note` (migration 0017): a note in the thread of a channel message already sent.
    static func isSlackThreadNote(_ payload: JSONValue) -> Bool { payload.objectValue?["slack_thread"] != nil }

    /// An edit of a message already sent, or a note in its thread: neither pages anyone anew, so neither waits for the
    /// alert to be firing nor for a rate limit.
    static func followsSentMessage(_ payload: JSONValue) -> Bool { isSlackFollowUp(payload) || isSlackThreadNote(payload) }

    static func notice(from payload: JSONValue) -> AlertNotice? {
        guard let alert = payload.objectValue?["alert"]?.objectValue, let id = alert["alert_id"]?.stringValue.flatMap(UUID.init(uuidString:)),
              let title = alert["title"]?.stringValue else { return nil }
        func number(_ key: String) -> Int { if case .number(let n)? = alert[key] { Int(n) } else { 0 } }
        return AlertNotice(alertID: id, title: title, severity: alert["severity"]?.stringValue.flatMap(Severity.init(rawValue:)) ?? .warning,
                           service: alert["service"]?.stringValue, cluster: alert["cluster"]?.stringValue, namespace: alert["namespace"]?.stringValue,
                           solution: alert["solution"]?.stringValue, runbookURL: alert["runbook_url"]?.stringValue,
                           onCallName: alert["on_call"]?.stringValue, onCallSlackID: alert["on_call_slack_id"]?.stringValue,
                           tier: max(0, number("tier") - 1), repetition: number("repeat"), link: alert["link"]?.stringValue)
    }
}
