import Crypto
import Foundation
import Hummingbird
import OwlCore
import PostgresNIO

/// Twilio's callbacks: the voice call's keypress (1 acknowledges, 2 escalates), direct acknowledge/escalate URLs and
/// SMS replies (`ACK`/`ESC`, any case, with or without the alert id). Every request must carry a valid
/// `X-Twilio-Signature` for the tenant's auth token, else 403; the tenant comes from the callback URL (`?tenant=`).
struct TwilioRoutes {
    let platform: Platform

    func register(on routes: OwlRouter) {
        routes.signed(.post, "/api/v1/twilio/voice", voice)
        routes.signed(.post, "/api/v1/twilio/acknowledge", acknowledge)
        routes.signed(.post, "/api/v1/twilio/escalate", escalate)
        routes.signed(.post, "/api/v1/twilio/sms", sms)
    }

    /// The gathered digit of a call (or the call's start, when Twilio asks for instructions).
    @Sendable func voice(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let call = try await verified(request)
        let ids = call.alertIDs
        switch call.form["Digits"] {
        case "1":
            let count = try await AlertActions(platform: platform).perform(.acknowledge, ids, actorType: "twilio", by: "phone:\(call.form["To"] ?? "?")", tenant: call.tenant, context: context)
            return Self.twiml(TwiML.say(count > 0 ? "Acknowledged. Thank you." : "The alert was already acknowledged or resolved."))
        case "2":
            _ = try await AlertActions(platform: platform).perform(.escalate, ids, actorType: "twilio", by: "phone:\(call.form["To"] ?? "?")", tenant: call.tenant, context: context)
            return Self.twiml(TwiML.say("Escalating to the next tier. Goodbye."))
        default:
            let path = "/api/v1/twilio/voice?tenant=\(call.tenant.slug.value)&alert_ids=\(ids.map { $0.uuidString.lowercased() }.joined(separator: ","))"
            return Self.twiml(TwiML.call(speech: "Press 1 to acknowledge. Press 2 to escalate.", gatherURL: call.base + path))
        }
    }

    @Sendable func acknowledge(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let call = try await verified(request)
        let count = try await AlertActions(platform: platform).perform(.acknowledge, call.alertIDs, actorType: "twilio", by: "phone:\(call.form["To"] ?? call.form["From"] ?? "?")", tenant: call.tenant, context: context)
        return Self.twiml(TwiML.say(count > 0 ? "Acknowledged. Thank you." : "Nothing to acknowledge."))
    }

    @Sendable func escalate(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let call = try await verified(request)
        _ = try await AlertActions(platform: platform).perform(.escalate, call.alertIDs, actorType: "twilio", by: "phone:\(call.form["To"] ?? call.form["From"] ?? "?")", tenant: call.tenant, context: context)
        return Self.twiml(TwiML.say("Escalating to the next tier. Goodbye."))
    }

    /// `ACK`, `ESC`, `ack 1a2b3c4d`: without an id, the firing alerts last sent to this number.
    @Sendable func sms(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let call = try await verified(request)
        guard let reply = SMSReply.parse(call.form["Body"] ?? "") else {
            return Self.twiml(TwiML.message("Reply ACK to acknowledge or ESC to escalate, optionally followed by the alert id."))
        }
        let from = call.form["From"] ?? ""
        let ids = try await platform.database.withTenant(call.tenant.slug) { connection -> [UUID] in
            let rows = try await connection.query("""
                SELECT DISTINCT o.alert_id FROM notification_outbox o JOIN alerts a ON a.id = o.alert_id
                WHERE o.method = 'sms' AND o.recipient = \(from) AND o.status IN ('sent', 'sandboxed') AND a.status = 'firing'
                  AND (\(reply.alertPrefix)::text IS NULL OR a.id::text LIKE \(reply.alertPrefix ?? "") || '%')
                """, logger: platform.logger)
            var ids: [UUID] = []
            for try await id in rows.decode(UUID.self) { ids.append(id) }
            return ids
        }
        guard !ids.isEmpty else { return Self.twiml(TwiML.message("No open alert matches. Nothing changed.")) }
        let count = try await AlertActions(platform: platform).perform(reply.action, ids, actorType: "twilio", by: "sms:\(from)", tenant: call.tenant, context: context)
        let verb = reply.action == .acknowledge ? "Acknowledged" : "Escalated"
        return Self.twiml(TwiML.message("\(verb) \(count) alert\(count == 1 ? "" : "s")."))
    }

    // MARK: Shared

    struct VerifiedCallback: Sendable {
        var tenant: Tenant
        var form: [String: String]
        var query: Query
        var base: String
        var alertIDs: [UUID] {
            let raw = (query["alert_ids"] ?? query["alert_id"] ?? "").split(separator: ",")
            return raw.compactMap { UUID(uuidString: String($0)) }
        }
    }

    /// Checks `X-Twilio-Signature` against the URL Twilio called and the form it posted; 403 otherwise.
    func verified(_ request: Request) async throws -> VerifiedCallback {
        let query = Query(request)
        guard let slug = query["tenant"].flatMap(TenantSlug.init),
              let tenant = try await TenantStore(database: platform.database).find(slug: slug) else {
            throw APIError.forbidden("unknown tenant or missing signature")
        }
        let body = try await request.body.collect(upTo: 64 * 1024)
        let form = FormEncoding.decode(String(buffer: body))
        guard let token = try await platform.tenantConfig.secret("twilio_auth_token", tenantID: tenant.id),
              let signature = request.headers[.init("X-Twilio-Signature")!] else {
            throw APIError.forbidden("missing or invalid X-Twilio-Signature")
        }
        let base = try await platform.tenantConfig.setting("public_base_url", tenantID: tenant.id)?.stringValue ?? platform.baseURL(for: request)
        let url = base + request.uri.description
        guard TwilioSignature.isValid(url: url, form: form, signature: signature, authToken: token) else {
            throw APIError.forbidden("missing or invalid X-Twilio-Signature")
        }
        var fields: [String: String] = [:]
        for (key, value) in form { fields[key] = value }
        return VerifiedCallback(tenant: tenant, form: fields, query: query, base: base)
    }

    static func twiml(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/xml; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// An SMS reply: `ACK`/`ESC`, any case, optionally followed by (a prefix of) the alert id.
struct SMSReply: Equatable {
    var action: AlertActions.Action
    var alertPrefix: String?

    static func parse(_ body: String) -> SMSReply? {
        let words = body.trimmingCharacters(in: .whitespacesAndNewlines).split(whereSeparator: \.isWhitespace)
        guard let first = words.first?.uppercased(), words.count <= 2 else { return nil }
        let action: AlertActions.Action
        switch first {
        case "ACK", "ACKNOWLEDGE", "1": action = .acknowledge
        case "ESC", "ESCALATE", "2": action = .escalate
        default: return nil
        }
        let prefix = words.count == 2 ? words[1].lowercased() : nil
        if let prefix, !(4...36).contains(prefix.count) || !prefix.allSatisfy({ $0.isHexDigit || $0 == "-" }) { return nil }
        return SMSReply(action: action, alertPrefix: prefix)
    }
}
