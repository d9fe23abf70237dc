import Foundation
import Hummingbird
import Mustache

/// The HTML templates of OwlCore's pages (sign-in, account), rendered with swift-mustache, which escapes every
/// `{{value}}`; nothing is ever inserted unescaped.
public struct WebPages: Sendable {
    let library: MustacheLibrary

    /// The templates shipped in OwlCore's resources (`Web/Templates/*.mustache`); read once, never changed.
    public static let core = WebPages(directory: Bundle.module.url(forResource: "Templates", withExtension: nil))

    init(directory: URL?) {
        var templates: [String: MustacheTemplate] = [:]
        let files = directory.flatMap { try? FileManager.default.contentsOfDirectory(at: $0, includingPropertiesForKeys: nil) } ?? []
        for file in files where file.pathExtension == "mustache" {
            if let text = try? String(contentsOf: file, encoding: .utf8), let template = try? MustacheTemplate(string: text) {
                templates[file.deletingPathExtension().lastPathComponent] = template
            }
        }
        library = MustacheLibrary(templates: templates)
    }

    public var names: Set<String> { Set(["sign-in", "set-password", "account"].filter { library.getTemplate(named: $0) != nil }) }

    /// A page as a response; `status` lets a form shown again with its problem say so (401, 422, 429).
    public func page(_ name: String, _ values: [String: Any], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        guard let html = library.render(values, withTemplate: name) else {
            throw APIError(.internalServerError, code: "template_missing", message: "the page could not be shown")
        }
        var fields = headers
        fields[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
