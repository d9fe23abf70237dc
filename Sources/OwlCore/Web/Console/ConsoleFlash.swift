import Foundation
import HTTPTypes
import Hummingbird

/// What a form post did, shown once on the page it redirects to (Post/Redirect/Get): "Acknowledged: …" with Undo, or
/// the problem to fix. Kept for a minute in a cookie, so the page's address stays clean and a reload does not repeat it.
public struct ConsoleFlash: Sendable, Codable, Equatable {
    public static let cookie = "owl_flash"
    /// At most this many ids are kept (a cookie holds about 4 KB).
    static let maximumIDs = 50

    public var kind: String
    public var ids: [UUID]
    public var text: String

    public init(kind: String, ids: [UUID], text: String) {
        self.kind = kind
        self.ids = Array(ids.prefix(Self.maximumIDs))
        self.text = String(text.prefix(300))
    }

    /// A 303 to `location` that carries the flash (`Console.redirect` says whether the cookie is `Secure`).
    func redirect(to location: String, secure: Bool) -> Response {
        let data = (try? JSONEncoder().encode(self)) ?? Data()
        let value = data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return Response(status: .seeOther, headers: [.location: location,
                                                     .setCookie: "\(Self.cookie)=\(value); Path=/; Max-Age=60; HttpOnly; SameSite=Lax\(secure ? "; Secure" : "")"])
    }

    /// The flash the browser brought, if any and readable.
    public static func read(_ request: Request) -> ConsoleFlash? {
        guard var text = CookieHeader.value(cookie, in: request.headers[.cookie]), !text.isEmpty, text.count <= 4096 else { return nil }
        text = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        text += String(repeating: "=", count: (4 - text.count % 4) % 4)
        guard let data = Data(base64Encoded: text) else { return nil }
        return try? JSONDecoder().decode(ConsoleFlash.self, from: data)
    }

    /// `response`, which showed `flash`, with the cookie cleared so that it shows once.
    public static func consumed(_ response: Response, _ flash: ConsoleFlash?) -> Response {
        guard flash != nil else { return response }
        var response = response
        response.headers.append(HTTPField(name: .setCookie, value: "\(cookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"))
        return response
    }

    /// For a template: the text, the kind as flags, and the ids (for Undo).
    public var values: [String: Any] {
        ["kind": kind, "text": text, "ids": ids.map { $0.uuidString.lowercased() }, "undo": kind == "acknowledged" && !ids.isEmpty,
         "problem": kind == "problem", "knowledgePrompt": kind == "resolved-unknown"]
    }
}
