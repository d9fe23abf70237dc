import Foundation
import Hummingbird

/// What a service's console is: its sections (the sidebar), where its templates are, and where the search box goes.
public struct ConsoleDefinition: Sendable {
    public struct Section: Sendable {
        public var id: String
        public var label: String
        public var path: String

        public init(_ id: String, _ label: String, _ path: String) {
            self.id = id
            self.label = label
            self.path = path
        }
    }

    public var sections: [Section]
    public var pagesDirectory: URL?
    public var searchPath: String

    public init(sections: [Section], pagesDirectory: URL?, searchPath: String) {
        self.sections = sections
        self.pagesDirectory = pagesDirectory
        self.searchPath = searchPath
    }
}

/// The person looking at a page: how to name them and which zone their times are shown in.
public struct ConsoleViewer: Sendable {
    public var principal: Principal
    public var name: String
    public var time: ConsoleTime
}

/// Renders a service's console pages inside the shared layout: the sidebar with the service's sections and links to
/// the other services, the person and tenant, the theme they chose, the search box, the stylesheet and script.
public struct Console: Sendable {
    let platform: Platform
    let service: String
    let definition: ConsoleDefinition
    public let pages: WebPages
    public let assets: ConsoleAssets

    public init(platform: Platform, service: String, definition: ConsoleDefinition, assets: ConsoleAssets = .shipped) {
        self.platform = platform
        self.service = service
        self.definition = definition
        self.pages = WebPages(directories: [WebPages.coreDirectory, definition.pagesDirectory])
        self.assets = assets
    }

    /// Who is looking, with their zone (their profile's, else UTC).
    public func viewer(_ principal: Principal) async throws -> ConsoleViewer {
        var name = principal.email ?? principal.actor
        var zone = TimeZone(identifier: "UTC")!
        if let id = principal.userID, let user = try await UserStore(database: platform.database).find(id: id, in: principal.tenant.slug) {
            name = user.displayName.isEmpty ? user.email : user.displayName
            zone = TimeZone(identifier: user.timezone) ?? zone
        }
        return ConsoleViewer(principal: principal, name: name, time: ConsoleTime(zone: zone, now: platform.clock.now))
    }

    /// A page: `template` extends `layout`; `values` are its own.
    public func page(_ template: String, title: String, section: String?, viewer: ConsoleViewer, request: Request,
                     values: [String: Any], query: String? = nil, refresh: Bool = false, status: HTTPResponse.Status = .ok) throws -> Response {
        var all = layout(title: title, section: section, viewer: viewer, request: request, query: query, refresh: refresh)
        for (key, value) in values { all[key] = value }
        guard let html = pages.render(template, all) else {
            throw APIError(.internalServerError, code: "template_missing", message: "the page could not be shown")
        }
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The not-found page of a section: what was not found (`"alert"`), and the way back to its list.
    public func notFound(_ what: String, back: String, section: String, viewer: ConsoleViewer, request: Request) throws -> Response {
        try page("not-found", title: "Not found", section: section, viewer: viewer, request: request,
                 values: ["what": what, "back": back], status: .notFound)
    }

    /// `path` with `items` as its query string, in order (a list's filters in its links).
    public static func link(_ path: String, _ items: [(String, String)]) -> String {
        items.isEmpty ? path : path + "?" + items.map { "\($0.0)=\(FormEncoding.escape($0.1))" }.joined(separator: "&")
    }

    /// A 303 to `location` that shows `flash` there; the cookie is `Secure` when the service is served over HTTPS.
    public func redirect(to location: String, flash: ConsoleFlash) -> Response {
        flash.redirect(to: location, secure: platform.authenticator.cookie.secure)
    }

    /// A piece of a page (a list's row) for the script to swap in; no layout.
    public func fragment(_ template: String, values: [String: Any]) throws -> Response {
        guard let html = pages.render(template, values) else { throw APIError.notFound("fragment") }
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func layout(title: String, section: String?, viewer: ConsoleViewer, request: Request, query: String?, refresh: Bool) -> [String: Any] {
        let theme = ConsoleTheme(cookie: CookieHeader.value(ConsoleTheme.cookie, in: request.headers[.cookie]))
        let links = ServiceLinks.others(of: platform.config.serviceName, in: platform.config.serviceLinks)
        return [
            "pageTitle": title, "appName": service, "home": definition.sections.first?.path ?? "/",
            "nav": definition.sections.map { ["path": $0.path, "label": $0.label, "current": $0.id == section] },
            "links": links.map { ["url": $0.url, "label": $0.label] }, "hasLinks": !links.isEmpty,
            "viewerName": viewer.name, "viewerRole": viewer.principal.role.rawValue, "tenantName": viewer.principal.tenant.name,
            "csrf": viewer.principal.csrfToken ?? "", "canAct": viewer.principal.role >= .engineer,
            "theme": theme.attribute ?? false, "themes": theme.choices,
            "css": assets.stylesheet.path, "js": assets.script.path,
            "searchPath": definition.searchPath, "query": query ?? "", "refresh": refresh,
            "returnTo": request.uri.path + (request.uri.query.map { "?" + $0 } ?? ""),
            "zone": viewer.time.zone.identifier,
        ]
    }
}

/// Light, dark, or as the system says: a person's choice kept in a cookie and rendered on the server, so the page
/// never flashes the other theme first.
public struct ConsoleTheme: Sendable, Equatable {
    public static let cookie = "owl_theme"
    public var choice: String

    public init(cookie value: String?) { choice = ["light", "dark"].contains(value ?? "") ? value! : "system" }

    /// `data-theme` of `<html>`, nil to follow `prefers-color-scheme`.
    public var attribute: String? { choice == "system" ? nil : choice }

    var choices: [[String: Any]] {
        [("system", "As the system"), ("light", "Light"), ("dark", "Dark")].map { ["value": $0.0, "label": $0.1, "selected": $0.0 == choice] }
    }
}

/// Links to the other Owl services' consoles (`<SERVICE>_<OTHER>_URL`), as the sidebar and `/auth/config` give them.
public enum ServiceLinks {
    static let names = [("nightowl", "NightOwl"), ("bookowl", "BookOwl"), ("ticketowl", "TicketOwl")]

    public static func others(of service: String, in links: [String: String]) -> [(name: String, label: String, url: String)] {
        names.compactMap { name, label in name == service ? nil : links[name].map { (name, label, $0) } }
    }
}

/// A template's values carried out of a database transaction. They are plain data (strings, numbers, flags, and arrays
/// and dictionaries of them), built in the transaction and never shared while it runs.
public struct TemplateValues: @unchecked Sendable {
    public var values: [String: Any]
    public init(_ values: [String: Any]) { self.values = values }
}
