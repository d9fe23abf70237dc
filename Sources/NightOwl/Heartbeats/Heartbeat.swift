import Foundation
import OwlCore

/// A heartbeat monitor (migration 0020): pinged at least once per `interval`, or its alert fires.
public struct Heartbeat: Sendable, Equatable, Encodable {
    public var id: UUID
    public var name: String
    public var interval: Int
    public var severity: Severity
    public var service: String?
    public var enabled: Bool
    public var lastPingAt: Date?
    public var expiredAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    /// `inactive` until the first ping (a monitor is not expected to beat before its sender is set up), `paused` when
    /// disabled, `expired` once a ping is overdue, else `ok`.
    public enum Status: String, Sendable { case inactive, paused, ok, expired }

    static func status(enabled: Bool, lastPing: Date?, expired: Bool, interval: Int, at instant: Date) -> Status {
        guard enabled else { return .paused }
        guard let lastPing else { return .inactive }
        return expired || instant.timeIntervalSince(lastPing) > TimeInterval(interval) ? .expired : .ok
    }

    func status(at instant: Date) -> Status {
        Self.status(enabled: enabled, lastPing: lastPingAt, expired: expiredAt != nil, interval: interval, at: instant)
    }

    /// The alert a missed heartbeat raises: one per heartbeat (its fingerprint), deduplicated and escalated like any.
    var fingerprint: String { "heartbeat:\(id.uuidString.lowercased())" }

    func missedAlert(at instant: Date) -> AlertEvent {
        let since = lastPingAt.map { " since \(ISO8601DateFormatter().string(from: $0))" } ?? ""
        return AlertEvent(action: .fire, fingerprint: fingerprint, severity: severity, source: .generic,
                          title: "Heartbeat missed: \(name)",
                          description: "No ping\(since); one is expected at least every \(SlackThreadNote.duration(TimeInterval(interval))). "
                              + "Whatever sends it (a monitoring stack, a scheduled job) may have stopped.",
                          labels: ["alertname": "HeartbeatMissed", "heartbeat": name], annotations: [:], service: service, cluster: nil,
                          namespace: nil, runbookURL: nil, generatorURL: nil, firedAt: instant, agent: nil, actor: "heartbeat")
    }

    func resolvedAlert(at instant: Date) -> AlertEvent {
        var event = missedAlert(at: instant)
        event.action = .resolve
        return event
    }

    enum CodingKeys: String, CodingKey {
        case id, name, severity, service, enabled, status
        case interval = "interval_seconds", lastPingAt = "last_ping_at", createdAt = "created_at", updatedAt = "updated_at"
        case pingPath = "ping_path"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(interval, forKey: .interval)
        try c.encode(severity, forKey: .severity)
        try c.encode(service, forKey: .service)
        try c.encode(enabled, forKey: .enabled)
        try c.encode(status(at: try encoder.instant()).rawValue, forKey: .status)
        try c.encode(lastPingAt, forKey: .lastPingAt)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode("/api/v1/heartbeats/\(id.uuidString.lowercased())/ping", forKey: .pingPath)
    }
}

/// Body of `POST /api/v1/heartbeats` and `PUT /api/v1/heartbeats/{id}` (on PUT, fields present are changed).
struct HeartbeatInput: Decodable, Sendable {
    var name: String?
    var intervalSeconds: Int?
    var severity: Severity?
    var service: Patch<String> = .keep
    var enabled: Bool?

    enum CodingKeys: String, CodingKey { case name, severity, service, enabled, intervalSeconds = "interval_seconds" }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        intervalSeconds = try c.decodeIfPresent(Int.self, forKey: .intervalSeconds)
        severity = try c.decodeIfPresent(Severity.self, forKey: .severity)
        service = try Patch(c, .service)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled)
    }

    static let intervals = 60...604_800

    /// The fields after applying this input to `current` (or to nothing, when creating).
    func applied(to current: Heartbeat?) throws -> HeartbeatFields {
        guard let name = try name.map({ try Field.requiredText($0, "name", max: 200) }) ?? current?.name else {
            throw APIError.validation("name is required", field: "name")
        }
        guard let interval = intervalSeconds ?? current?.interval else {
            throw APIError.validation("interval_seconds is required", field: "interval_seconds")
        }
        guard Self.intervals.contains(interval) else {
            throw APIError.validation("interval_seconds must be between 60 (a minute) and 604800 (a week)", field: "interval_seconds")
        }
        return HeartbeatFields(name: name, interval: interval, severity: severity ?? current?.severity ?? .critical,
                               service: try service.map { try Field.requiredText($0, "service", max: 200) }.applied(to: current?.service),
                               enabled: enabled ?? current?.enabled ?? true)
    }
}

struct HeartbeatFields: Sendable {
    var name: String
    var interval: Int
    var severity: Severity
    var service: String?
    var enabled: Bool
}
