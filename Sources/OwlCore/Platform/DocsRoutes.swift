import Foundation
import Crypto
import Hummingbird

/// `/api/docs/openapi.yaml` (the service's hand-written OpenAPI 3.1 document) and `/api/docs`, a page that lists
/// every route with the role it needs.
struct DocsRoutes {
    let serviceName: String
    let document: String
    let routes: @Sendable () -> [RouteDescriptor]

    func register(on router: OwlRouter) {
        router.open(.get, "/api/docs/openapi.yaml", yaml)
        router.open(.get, "/api/docs", page)
    }

    /// The OpenAPI document.
    @Sendable func yaml(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: document)))
    }

    /// A readable index of the API.
    @Sendable func page(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let rows = routes().sorted { ($0.path, $0.method.rawValue) < ($1.path, $1.method.rawValue) }.map { route in
            let access: String = switch route.access {
            case .open: "open"
            case .providerSigned: "provider signature"
            case .role(let role): role.rawValue
            case .ingestion(let role): "\(role.rawValue) or webhook key"
            case .ingestionKeyInBody(let role): "\(role.rawValue) or webhook key (header or routing_key)"
            case .anonymousForm: "open form (CSRF cookie)"
            case .page(let role): "\(role.rawValue), signed in (HTML page)"
            }
            return "<tr><td class=\"m \(route.method.rawValue.lowercased())\">\(route.method.rawValue)</td><td><code>\(HTML.escape(route.path))</code></td><td>\(access)</td></tr>"
        }.joined(separator: "\n")
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(HTML.escape(serviceName)) API</title>
            <style>\(Self.style)</style></head><body>
            <h1>\(HTML.escape(serviceName)) API</h1>
            <p>The full description is the <a href="/api/docs/openapi.yaml">OpenAPI 3.1 document</a>. Authenticate with
            <code>X-API-Key</code>, <code>Authorization: Bearer &lt;key or OIDC token&gt;</code>. The last column is the lowest role that may call the route.</p>
            <table><thead><tr><th>Method</th><th>Path</th><th>Role</th></tr></thead><tbody>
            \(rows)
            </tbody></table></body></html>
            """
        // The page's one inline style is allowed by its hash; nothing else inline runs.
        let policy = SecurityHeadersMiddleware.contentSecurityPolicy.replacingOccurrences(of: "style-src 'self'", with: "style-src 'self' '\(Self.styleHash)'")
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: policy],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

extension DocsRoutes {
    static let style = "body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1d2330;padding:0 1rem}"
        + "table{border-collapse:collapse;width:100%}td{padding:.3rem .6rem;border-bottom:1px solid #e3e6ec}"
        + ".m{font-weight:600;font-family:ui-monospace,monospace;width:5rem}.get{color:#1a7f37}.post{color:#0a58ca}"
        + ".put,.patch{color:#9a6700}.delete{color:#cf222e}"
    static let styleHash = "sha256-" + Data(SHA256.hash(data: Data(style.utf8))).base64EncodedString()
}

public enum HTML {
    /// Escapes text for HTML element content and attribute values.
    /// Scalar by scalar: a quote followed by a combining mark is one Character, which a Character-wise escape left
    /// unescaped.
    public static func escape(_ text: String) -> String {
        // Most values (ids, names, times) hold none of the five characters: the same string comes back, unallocated.
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars { escape(scalar, into: &out) }
        return out
    }

    public static func escape(_ scalar: Unicode.Scalar, into out: inout String) {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(scalar)
        }
    }

    /// The five escapes undone, scalar by scalar (a combining mark after `;` must not hide an escape).
    public static func unescape(_ html: String) -> String {
        let entities: [(String, Unicode.Scalar)] = [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")]
        let scalars = Array(html.unicodeScalars)
        var out = String.UnicodeScalarView()
        var index = 0
        outer: while index < scalars.count {
            if scalars[index] == "&" {
                for (entity, scalar) in entities {
                    let pattern = Array(entity.unicodeScalars)
                    if index + pattern.count <= scalars.count, Array(scalars[index..<(index + pattern.count)]) == pattern {
                        out.append(scalar)
                        index += pattern.count
                        continue outer
                    }
                }
            }
            out.append(scalars[index])
            index += 1
        }
        return String(out)
    }
}
