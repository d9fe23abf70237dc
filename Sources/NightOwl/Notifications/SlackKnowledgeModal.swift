import Foundation
import OwlCore

/// "Add to Knowledge Base" from Slack: the prompt after a resolution, the modal it opens (pre-filled from the alert),
/// reading what was submitted, and the answers. Pure functions over Slack's Block Kit and view payloads; the routes
/// are in `SlackRoutes+Knowledge.swift`.
enum SlackKnowledgeModal {
    static let openAction = "create_incident_modal"
    static let skipAction = "skip_kb_entry"
    static let callbackID = "kb_entry_from_alert"
    /// Input blocks, named as the entry's fields so that a validation error finds its block.
    static let fields = ["title", "severity", "symptoms", "root_cause", "solution"]
    static let actionID = "value"

    /// What the modal carries to its submission (Slack keeps no session): the alert, and where the prompt that opened
    /// it can be replaced when it was an ephemeral message (a channel's alert message is followed up instead).
    struct Context: Equatable, Sendable {
        var alertID: UUID
        var responseURL: String?

        var metadata: String {
            var object: [String: JSONValue] = ["alert_id": .string(alertID.uuidString.lowercased())]
            if let responseURL { object["response_url"] = .string(responseURL) }
            return JSONValue.object(object).jsonText()
        }

        init(alertID: UUID, responseURL: String?) {
            self.alertID = alertID
            self.responseURL = responseURL
        }

        init?(metadata: String) {
            guard let object = JSONValue.parse(metadata)?.objectValue,
                  let id = object["alert_id"]?.stringValue.flatMap(UUID.init(uuidString:)) else { return nil }
            self.init(alertID: id, responseURL: object["response_url"]?.stringValue)
        }
    }

    /// The spec's resolution prompt (workflows 1.4), for an alert the knowledge base does not know.
    static func prompt(title: String, alertID: UUID, resolvedBy slackUser: String) -> [JSONValue] {
        let id = JSONValue.string(alertID.uuidString.lowercased())
        return [
            .object(["type": "section", "text": .object(["type": "mrkdwn", "text": .string(
                "✅ Alert *\(AlertMessages.slackEscaped(title.truncated(200)))* resolved by <@\(slackUser)>.\n\n"
                + "This looks like a *new issue* not in the knowledge base.")])]),
            .object(["type": "actions", "elements": .array([
                AlertMessages.knowledgeBaseButton(alertID),
                .object(["type": "button", "text": .object(["type": "plain_text", "text": "Skip"]), "action_id": .string(skipAction), "value": id]),
            ])]),
        ]
    }

    /// The modal, pre-filled: the alert's title, severity and description, its resolution notes as the solution; the
    /// fingerprint, service, cluster and namespace are recorded so that the next alert like it is recognised.
    static func view(for alert: Alert, context: Context) -> JSONValue {
        var recorded = ["fingerprint `\(alert.fingerprint.truncated(80))`"]
        if let service = alert.service { recorded.append("service *\(AlertMessages.slackEscaped(service))*") }
        if let cluster = alert.cluster { recorded.append("cluster *\(AlertMessages.slackEscaped(cluster))*") }
        if let namespace = alert.namespace { recorded.append("namespace *\(AlertMessages.slackEscaped(namespace))*") }
        let severities: [JSONValue] = Severity.allCases.map(option)
        return .object([
            "type": "modal", "callback_id": .string(callbackID), "private_metadata": .string(context.metadata),
            "title": plain("Add to Knowledge Base"), "submit": plain("Save"), "close": plain("Cancel"),
            "blocks": .array([
                input("title", "Title", text(initial: alert.title, max: 500)),
                input("severity", "Severity", .object(["type": "static_select", "action_id": .string(actionID), "options": .array(severities),
                                                       "initial_option": option(alert.severity)])),
                input("symptoms", "Symptoms", text(initial: alert.description, max: 3_000, multiline: true), optional: true),
                input("root_cause", "Root cause", text(initial: nil, max: 3_000, multiline: true), optional: true),
                input("solution", "Solution: what fixed it", text(initial: alert.resolutionNotes, max: 3_000, multiline: true)),
                .object(["type": "context", "elements": .array([.object(["type": "mrkdwn", "text": .string(
                    "Recorded with the entry so that the next alert like this one comes with its solution: "
                    + recorded.joined(separator: ", ") + ".")])])]),
            ]),
        ])
    }

    /// The entry the submitted view describes, or Slack's errors by block. `values` is `view.state.values`.
    static func entry(from values: JSONValue?, alert: Alert) -> Result<IncidentInput, Errors> {
        func value(_ block: String) -> String? {
            guard let element = values?.objectValue?[block]?.objectValue?[actionID]?.objectValue else { return nil }
            return element["value"]?.stringValue ?? element["selected_option"]?.objectValue?["value"]?.stringValue
        }
        let input = AlertKnowledge.input(for: alert, title: value("title") ?? "", severity: value("severity").flatMap(Severity.init(rawValue:)),
                                         symptoms: value("symptoms"), rootCause: value("root_cause"), solution: value("solution") ?? "")
        return AlertKnowledge.check(input).mapError { Errors(byBlock: $0.byField) }
    }

    struct Errors: Error, Equatable, Sendable {
        var byBlock: [String: String]
    }

    /// The answer to a submission that Slack shows under the blocks at fault, keeping the modal open.
    static func errorsAnswer(_ errors: Errors) -> JSONValue {
        .object(["response_action": "errors", "errors": .object(errors.byBlock.mapValues(JSONValue.string))])
    }

    /// The answer to a stored submission: the modal turns into a confirmation.
    static func savedAnswer(_ incident: Incident, link: String?) -> JSONValue {
        var text = "📚 *\(AlertMessages.slackEscaped(incident.title.truncated(200)))* is in the knowledge base now. The next alert "
            + "with this fingerprint will come with its solution."
        if let link { text += "\n<\(link)|Open the entry>" }
        return .object(["response_action": "update", "view": .object([
            "type": "modal", "title": plain("Added"), "close": plain("Done"),
            "blocks": .array([.object(["type": "section", "text": .object(["type": "mrkdwn", "text": .string(text)])])]),
        ])])
    }

    /// What the button opens when an entry knows the alert already (added since the prompt was shown).
    static func alreadyKnownView(_ incident: Incident, link: String?) -> JSONValue {
        var text = "📚 The knowledge base already knows this alert: *\(AlertMessages.slackEscaped(incident.title.truncated(200)))*"
        if !incident.solution.isEmpty { text += "\n💡 " + AlertMessages.slackEscaped(incident.solution.truncated(1_000)) }
        if let link { text += "\n<\(link)|Open the entry>" }
        return .object(["type": "modal", "title": plain("Already known"), "close": plain("Close"),
                        "blocks": .array([.object(["type": "section", "text": .object(["type": "mrkdwn", "text": .string(text)])])])])
    }

    /// What replaces the ephemeral prompt once it has been answered.
    static func promptAnswered(_ text: String) -> JSONValue {
        .object(["replace_original": true, "text": .string(text)])
    }

    private static func plain(_ text: String) -> JSONValue { .object(["type": "plain_text", "text": .string(text)]) }

    private static func option(_ severity: Severity) -> JSONValue {
        .object(["text": plain("\(AlertMessages.emoji(severity)) \(severity.rawValue)"), "value": .string(severity.rawValue)])
    }

    private static func text(initial: String?, max: Int, multiline: Bool = false) -> JSONValue {
        var element: [String: JSONValue] = ["type": "plain_text_input", "action_id": .string(actionID), "max_length": .number(Double(max)),
                                            "multiline": .bool(multiline)]
        if let initial, !initial.isEmpty { element["initial_value"] = .string(String(initial.prefix(max))) }
        return .object(element)
    }

    private static func input(_ block: String, _ label: String, _ element: JSONValue, optional: Bool = false) -> JSONValue {
        .object(["type": "input", "block_id": .string(block), "label": plain(label), "element": element, "optional": .bool(optional)])
    }
}
