import Foundation
import OwlCore

/// The knowledge-base editor's form: what an entry's fields look like as text (lists one per line), what a posted
/// form means as an `IncidentInput`, and the problems to show beside each field. Pure, so it is tested with tables.
struct KnowledgeForm: Equatable {
    /// The fields in the order the form shows them: name, label, hint, and whether it is Markdown or a list.
    struct Spec {
        var name: String
        var label: String
        var hint: String
        var kind: Kind
        enum Kind { case line, list, markdown }
    }

    static let specs: [Spec] = [
        Spec(name: "title", label: "Title", hint: "What people paged will recognise: the alert's name or its effect.", kind: .line),
        Spec(name: "category", label: "Category", hint: "For example database, network, kubernetes.", kind: .line),
        Spec(name: "solution", label: "Solution", hint: "What fixed it, step by step. Markdown: **bold**, `code`, lists, ``` blocks, tables.", kind: .markdown),
        Spec(name: "root_cause", label: "Root cause", hint: "Why it happened. Markdown.", kind: .markdown),
        Spec(name: "symptoms", label: "Symptoms", hint: "What people see when it happens. Markdown.", kind: .markdown),
        Spec(name: "fingerprints", label: "Fingerprints", hint: "One per line: alerts with these fingerprints come with this entry.", kind: .list),
        Spec(name: "error_patterns", label: "Error patterns", hint: "One per line: text in an alert that points to this entry.", kind: .list),
        Spec(name: "services", label: "Services", hint: "One per line or separated by commas.", kind: .list),
        Spec(name: "clusters", label: "Clusters", hint: "One per line or separated by commas.", kind: .list),
        Spec(name: "namespaces", label: "Namespaces", hint: "One per line or separated by commas.", kind: .list),
        Spec(name: "tags", label: "Tags", hint: "One per line or separated by commas.", kind: .list),
    ]

    /// The text of each field by name, plus `severity` and `runbook_id`.
    var values: [String: String]

    /// A posted form; line breaks become "\n" (browsers send a textarea's as CRLF), so stored text and its history
    /// differences read the same whoever wrote them.
    init(values: [String: String]) {
        self.values = values.mapValues { $0.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n") }
    }

    /// An entry's fields as the form shows them.
    init(_ incident: Incident) {
        values = [
            "title": incident.title, "category": incident.category, "severity": incident.severity.rawValue,
            "solution": incident.solution, "root_cause": incident.rootCause, "symptoms": incident.symptoms,
            "fingerprints": incident.fingerprints.joined(separator: "\n"), "error_patterns": incident.errorPatterns.joined(separator: "\n"),
            "services": incident.services.joined(separator: "\n"), "clusters": incident.clusters.joined(separator: "\n"),
            "namespaces": incident.namespaces.joined(separator: "\n"), "tags": incident.tags.joined(separator: "\n"),
            "runbook_id": incident.runbookID?.uuidString.lowercased() ?? "",
        ]
    }

    /// Items of a list field: one per line; fields other than fingerprints and error patterns may also use commas
    /// (a fingerprint or a pattern may hold a comma).
    static func items(_ text: String, commas: Bool) -> [String] {
        let lines = text.split(whereSeparator: \.isNewline)
        let pieces = commas ? lines.flatMap { $0.split(separator: ",") } : lines
        return pieces.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The entry the form describes, or its problems by field. Every field is sent by the form, so every field is set
    /// (an emptied list empties the entry's list); a title and a severity are needed.
    func input() -> Result<IncidentInput, AlertKnowledge.Problems> {
        var input = IncidentInput()
        var problems: [String: String] = [:]
        let title = values["title"] ?? ""
        if title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { problems["title"] = "Give the entry a title." }
        input.title = title
        if let severity = Severity(rawValue: values["severity"] ?? "") { input.severity = severity } else { problems["severity"] = "Choose a severity." }
        input.category = values["category"] ?? ""
        input.solution = values["solution"] ?? ""
        input.rootCause = values["root_cause"] ?? ""
        input.symptoms = values["symptoms"] ?? ""
        input.fingerprints = Self.items(values["fingerprints"] ?? "", commas: false)
        input.errorPatterns = Self.items(values["error_patterns"] ?? "", commas: false)
        input.services = Self.items(values["services"] ?? "", commas: true)
        input.clusters = Self.items(values["clusters"] ?? "", commas: true)
        input.namespaces = Self.items(values["namespaces"] ?? "", commas: true)
        input.tags = Self.items(values["tags"] ?? "", commas: true)
        let runbook = values["runbook_id"] ?? ""
        if runbook.isEmpty {
            input.clearsRunbook = true
        } else if let id = UUID(uuidString: runbook) {
            input.runbookID = id
        } else {
            problems["runbook_id"] = "Choose a runbook from the list."
        }
        do {
            let checked = try input.validated(creating: false)
            return problems.isEmpty ? .success(checked) : .failure(.init(byField: problems))
        } catch let error as APIError {
            // "services[3] must not be empty" names the list; the form shows it beside the list.
            let field = (error.details?.objectValue?["field"]?.stringValue ?? "title").split(separator: "[").first.map(String.init) ?? "title"
            problems[field] = problems[field] ?? Self.sentence(error.message)
            return .failure(.init(byField: problems))
        } catch {
            return .failure(.init(byField: problems.merging(["title": "The entry could not be read."]) { first, _ in first }))
        }
    }

    /// An API message ("root_cause must be at most 20000 characters") as the form says it.
    static func sentence(_ message: String) -> String {
        var text = message
        for spec in specs where text.hasPrefix(spec.name) {
            text = spec.label + text.dropFirst(spec.name.count)
            break
        }
        return text.prefix(1).uppercased() + text.dropFirst() + "."
    }

    /// The form's fields for a template, each with its value and problem.
    func fields(problems: [String: String]) -> [[String: Any]] {
        Self.specs.map { spec in
            let value = values[spec.name] ?? ""
            let field: [String: Any] = [
                "name": spec.name, "id": "entry-" + spec.name.replacingOccurrences(of: "_", with: "-"), "label": spec.label,
                "hint": spec.hint, "value": value, "problem": problems[spec.name] ?? false,
                "line": spec.kind == .line, "multiline": spec.kind != .line, "markdown": spec.kind == .markdown,
                "rows": spec.kind == .markdown ? (spec.name == "solution" ? 12 : 5) : 3,
                "required": spec.name == "title",
            ]
            return field
        }
    }

    /// The Markdown fields rendered, for the preview panel (each cut at the longest text an entry may hold).
    func preview() -> [[String: Any]] {
        Self.specs.filter { $0.kind == .markdown }.map { spec in
            let value = String((values[spec.name] ?? "").prefix(20_000))
            return ["label": spec.label, "empty": value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                    "bodyHTML": Markdown.trusted(value, headingOffset: 2)]
        }
    }
}
