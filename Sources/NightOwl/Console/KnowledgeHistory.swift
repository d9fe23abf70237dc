import Foundation
import OwlCore

/// An entry's history as people read it: who changed what when, each text field as a difference (words or lines
/// struck out and added), each list as the items removed and added, other fields as before → after.
enum KnowledgeHistory {
    /// The fields in the order a change lists them, with their labels.
    static let fields: [(String, String)] = [
        ("title", "Title"), ("severity", "Severity"), ("category", "Category"), ("solution", "Solution"), ("root_cause", "Root cause"),
        ("symptoms", "Symptoms"), ("fingerprints", "Fingerprints"), ("error_patterns", "Error patterns"), ("services", "Services"),
        ("clusters", "Clusters"), ("namespaces", "Namespaces"), ("tags", "Tags"), ("runbook_id", "Runbook"), ("archived_at", "Archived"),
        ("merged_into_id", "Merged into"), ("merged_from_ids", "Merged from"), ("resolution_count", "Times resolved"), ("last_seen_at", "Last seen"),
    ]
    static let labels = Dictionary(uniqueKeysWithValues: fields)
    static let changes: [String: String] = [
        "created": "Created", "updated": "Edited", "archived": "Archived", "merged_from": "Another entry merged in",
        "merged_into": "Merged into another entry",
    ]
    /// Fields whose changes are bookkeeping, not edits.
    static let hidden: Set<String> = ["id", "created_at", "created_by"]

    static func values(_ entries: [IncidentHistoryEntry], time: ConsoleTime) -> [[String: Any]] {
        entries.reversed().map { entry in
            let diff = entry.diff.objectValue ?? [:]
            let order = fields.map(\.0)
            let fields = diff.keys.filter { !hidden.contains($0) }
                .sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
                .map { field(name: $0, change: diff[$0]?.objectValue ?? [:]) }
            return ["change": changes[entry.changeType] ?? entry.changeType.replacingOccurrences(of: "_", with: " ").capitalized,
                    "by": entry.changedBy.isEmpty ? "the system" : entry.changedBy, "at": time.value(entry.createdAt),
                    "fields": fields, "hasFields": !fields.isEmpty]
        }
    }

    static func field(name: String, change: [String: JSONValue]) -> [String: Any] {
        let old = change["old"] ?? .null, new = change["new"] ?? .null
        var values: [String: Any] = ["label": labels[name] ?? name.replacingOccurrences(of: "_", with: " ").capitalized,
                                     "text": false, "list": false, "scalar": false]
        switch (old, new) {
        case (.string(let before), .string(let after)) where !name.hasSuffix("_at") && !name.hasSuffix("_id"):
            values["text"] = ["parts": TextDiff.folded(TextDiff.diff(before, after)).map { part -> [String: Any] in
                switch part {
                case .same(let text): ["same": text, "removed": false, "added": false]
                case .removed(let text): ["same": false, "removed": text, "added": false]
                case .added(let text): ["same": false, "removed": false, "added": text]
                }
            }]
        case (.array, _), (_, .array):
            func items(_ value: JSONValue) -> [String] { if case .array(let list) = value { list.map(describe) } else { [] } }
            let was = items(old), now = items(new)
            let removed = was.filter { !now.contains($0) }, added = now.filter { !was.contains($0) }
            values["list"] = ["removed": removed, "added": added, "hasRemoved": !removed.isEmpty, "hasAdded": !added.isEmpty]
        default:
            values["scalar"] = ["before": describe(old), "after": describe(new)]
        }
        return values
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "none"
        case .bool(let flag): flag ? "yes" : "no"
        case .number(let number): number == number.rounded() ? String(Int(number)) : String(number)
        case .string(let text): text
        case .array(let items): items.map(describe).joined(separator: ", ")
        case .object: "changed"
        }
    }
}
