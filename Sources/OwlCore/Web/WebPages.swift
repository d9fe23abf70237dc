import Foundation
import Hummingbird
import Mustache

/// HTML templates rendered with swift-mustache, which escapes every `{{value}}`; no template uses the unescaped forms
/// (`{{{value}}}`, `{{&value}}`), and a test checks that. OwlCore's own (sign-in, account, the console layout) are
/// shared by the three services; a service's console adds its pages, which extend the layout.
public struct WebPages: Sendable {
    let library: MustacheLibrary
    /// The names of the templates, and their text, as read.
    public let sources: [String: String]

    /// OwlCore's templates (`Web/Templates/*.mustache`).
    public static let coreDirectory = Bundle.module.url(forResource: "Templates", withExtension: nil)
    /// The templates shipped in OwlCore's resources; read once, never changed.
    public static let core = WebPages(directories: [coreDirectory])

    /// Every template (and so every partial, which swift-mustache starts with its own HTML escaping) escapes with
    /// `HTML.escape`: scalar by scalar, where swift-mustache's escaping goes Character by Character and so leaves a quote
    /// followed by a combining mark unescaped (a way out of an attribute); and without allocating for the many values
    /// that need nothing escaped.
    static let escaping: String = {
        MustacheContentTypes.register(OwlHTMLContentType(), named: "OWL_HTML")
        return "{{% CONTENT_TYPE: OWL_HTML}}"
    }()

    struct OwlHTMLContentType: MustacheContentType {
        func escapeText(_ text: String) -> String { HTML.escape(text) }
    }

    /// Reads every `*.mustache` of `directories`; a later directory's template replaces an earlier one of that name.
    public init(directories: [URL?]) {
        var templates: [String: MustacheTemplate] = [:]
        var sources: [String: String] = [:]
        for directory in directories {
            let files = directory.flatMap { try? FileManager.default.contentsOfDirectory(at: $0, includingPropertiesForKeys: nil) } ?? []
            for file in files where file.pathExtension == "mustache" {
                guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
                let name = file.deletingPathExtension().lastPathComponent
                sources[name] = text
                if let template = try? MustacheTemplate(string: Self.escaping + text) { templates[name] = template }
            }
        }
        library = MustacheLibrary(templates: templates)
        self.sources = sources
    }

    /// The templates that parsed (a template that does not parse is missing, and a test lists it).
    public var names: Set<String> { Set(sources.keys.filter { library.getTemplate(named: $0) != nil }) }

    /// The page as HTML, or nil when there is no such template.
    public func render(_ name: String, _ values: [String: Any]) -> String? { library.render(values, withTemplate: name) }

    /// The page with any object as its values (tests render every template with hostile ones).
    public func render(_ name: String, object: Any) -> String? { library.render(object, withTemplate: name) }

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
