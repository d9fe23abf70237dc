import Foundation
import OwlCore

/// NightOwl's console: the pages an on-call engineer lives in, on the shared UI kit.
struct NightOwlConsole {
    static let definition = ConsoleDefinition(
        sections: [.init("home", "Home", "/"), .init("alerts", "Alerts", "/alerts"), .init("dashboard", "Dashboard", "/dashboard"), .init("knowledge", "Knowledge base", "/knowledge"),
                   .init("runbooks", "Runbooks", "/runbooks")],
        pagesDirectory: Bundle.module.url(forResource: "Pages", withExtension: nil),
        searchPath: "/alerts")

    let platform: Platform
    let console: Console

    init(platform: Platform) {
        self.platform = platform
        console = Console(platform: platform, service: "NightOwl", definition: Self.definition)
    }

    func register(on routes: OwlRouter) {
        HomePage(platform: platform, console: console).register(on: routes)
        AlertPages(platform: platform, console: console).register(on: routes)
        KnowledgeEditor(platform: platform, console: console).register(on: routes)
        KnowledgeMerge(platform: platform, console: console).register(on: routes)
        KnowledgePages(platform: platform, console: console).register(on: routes)
        RunbookPages(platform: platform, console: console).register(on: routes)
        DashboardPage(platform: platform, console: console).register(on: routes)
    }
}

/// An alert as the pages show it: every value a template needs, times in the viewer's zone.
enum AlertView {
    static func values(_ alert: Alert, time: ConsoleTime) -> [String: Any] {
        [
            "id": alert.id.uuidString.lowercased(), "short": String(alert.id.uuidString.lowercased().prefix(8)),
            "title": alert.title, "description": alert.description, "severity": alert.severity.rawValue, "status": alert.status.rawValue,
            "firing": alert.status == .firing, "acknowledged": alert.status == .acknowledged, "resolved": alert.status == .resolved,
            "open": alert.status != .resolved,
            "service": alert.service ?? false, "source": alert.source, "fingerprint": alert.fingerprint,
            "cluster": alert.cluster ?? false, "namespace": alert.namespace ?? false,
            "count": alert.occurrenceCount, "repeated": alert.occurrenceCount > 1,
            "firstFired": time.value(alert.firstFiredAt), "lastFired": time.value(alert.lastFiredAt),
            "acknowledgedBy": alert.acknowledgedBy ?? false, "acknowledgedAt": time.value(alert.acknowledgedAt),
            "resolvedBy": alert.resolvedBy ?? false, "resolvedAt": time.value(alert.resolvedAt),
            "notes": alert.resolutionNotes ?? false,
            "generatorURL": SafeLink.http(alert.generatorURL) ?? false, "runbookURL": SafeLink.http(alert.runbookURL) ?? false,
            "labels": pairs(alert.labels), "annotations": pairs(alert.annotations),
            "hasLabels": !(alert.labels.objectValue ?? [:]).isEmpty, "hasAnnotations": !(alert.annotations.objectValue ?? [:]).isEmpty,
            "suggestedSolution": alert.suggestedSolution.flatMap { $0.isEmpty ? nil : $0 } ?? false, "known": alert.matchedIncidentID != nil,
            "hasDescription": !alert.description.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
        ]
    }

    /// What a list's row shows (the `alert-row` template and short lists): a fifth of `values`, flat (no dotted names)
    /// and with `canAct` in the row, so that each of a list's fifty rows finds its names at once.
    static func row(_ alert: Alert, time: ConsoleTime, canAct: Bool) -> [String: Any] {
        let id = alert.id.uuidString.lowercased()
        return [
            "id": id, "short": String(id.prefix(8)), "title": alert.title, "severity": alert.severity.rawValue,
            "status": alert.status.rawValue, "firing": alert.status == .firing, "service": alert.service ?? false,
            "count": alert.occurrenceCount, "repeated": alert.occurrenceCount > 1, "canAct": canAct,
            "firstFiredISO": Timestamp.format(alert.firstFiredAt), "firstFiredAgo": ConsoleTime.ago(time.now.timeIntervalSince(alert.firstFiredAt)),
            "lastFiredISO": Timestamp.format(alert.lastFiredAt), "lastFiredAgo": ConsoleTime.ago(time.now.timeIntervalSince(alert.lastFiredAt)),
        ]
    }

    static func pairs(_ json: JSONValue) -> [[String: String]] {
        (json.objectValue ?? [:]).sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value.stringValue ?? $0.value.jsonText()] }
    }
}

/// Links that come from outside (webhook fields): only `http` and `https` URLs become links; anything else
/// (`javascript:`, `data:`) is shown as text or not at all.
enum SafeLink {
    static func http(_ raw: String?) -> String? {
        guard let raw, let url = URL(string: raw), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host?.isEmpty == false else { return nil }
        return raw
    }
}
