import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import HTTPTypes

/// A local HTTP server that records every request and answers from a script (then 200 `{}`): the far end of an
/// outbound call in tests (a webhook receiver, another Owl service, Zammad's REST API).
public final class ScriptedServer: Sendable {
    public struct Seen: Sendable {
        public var method: String
        public var path: String
        public var headers: [String: String]
        public var body: String
    }

    public enum Answer: Sendable {
        case status(Int, body: String = "{}", headers: [String: String] = [:])
        /// Answers 200 after waiting this long.
        case slow(Duration)
    }

    private let seenBox = NIOLockedValueBox<[Seen]>([])
    private let scriptBox = NIOLockedValueBox<[Answer]>([])

    public init() {}

    public var seen: [Seen] { seenBox.withLockedValue { $0 } }

    /// Queues answers for the next requests, in order.
    public func script(_ answers: Answer...) { scriptBox.withLockedValue { $0.append(contentsOf: answers) } }

    /// Runs `body` with the server listening on a loopback port; `body` gets its base URL (`http://127.0.0.1:PORT`).
    public func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.on("**", method: .get) { [self] request, _ in try await answer(request) }
        for method in [HTTPRequest.Method.post, .put, .patch, .delete] {
            router.on("**", method: method) { [self] request, _ in try await answer(request) }
        }
        let application = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await application.test(.live) { client in
            guard let port = client.port else { throw TestDatabase.SetupError("the scripted server has no port") }
            return try await body("http://127.0.0.1:\(port)")
        }
    }

    private func answer(_ request: Request) async throws -> Response {
        let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        seenBox.withLockedValue { $0.append(Seen(method: request.method.rawValue, path: request.uri.path, headers: headers, body: body)) }
        let next = scriptBox.withLockedValue { $0.isEmpty ? Answer.status(200) : $0.removeFirst() }
        switch next {
        case .slow(let delay):
            try await Task.sleep(for: delay)
            return Self.response(200, "{}", [:])
        case .status(let code, let body, let extra):
            return Self.response(code, body, extra)
        }
    }

    static func response(_ code: Int, _ body: String, _ extra: [String: String]) -> Response {
        var fields: HTTPFields = [.contentType: "application/json"]
        for (name, value) in extra { if let field = HTTPField.Name(name) { fields[field] = value } }
        return Response(status: .init(code: code), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
