import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle

/// One change for the consoles' live updates, as a Server-Sent Event: `id` (for `Last-Event-ID`), `event` (the topic),
/// and the object's id and what happened to it.
public struct ConsoleEvent: Sendable, Equatable {
    public var id: Int64
    public var topic: String
    public var subjectID: UUID
    public var kind: String

    var text: String {
        "id: \(id)\nevent: \(topic)\ndata: {\"id\":\"\(subjectID.uuidString.lowercased())\",\"kind\":\"\(kind)\"}\n\n"
    }
}

/// Feeds every open event stream of this process from PostgreSQL: one connection listens on `owl_console`; a
/// notification names a tenant, whose new rows of `console_events` are read once and handed to that tenant's streams.
public actor ConsoleEventHub: Service {
    public static let channel = "owl_console"
    /// A stream that falls this far behind loses its oldest events (the page reloads what it shows on reconnecting).
    static let buffer = 1_000
    let database: Database
    let logger: Logger
    private var subscribers: [TenantSlug: [UUID: AsyncStream<ConsoleEvent>.Continuation]] = [:]
    private var lastSeen: [TenantSlug: Int64] = [:]
    /// Whether the listener is up; without it, streams only catch up and end (the browser comes back in 3 s).
    private var listening = false

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// A stream of `tenant`'s changes from now on; it ends when the caller stops reading it. Nil while the hub is not
    /// listening (before it starts, after it stops).
    public func subscribe(_ tenant: TenantSlug) async throws -> AsyncStream<ConsoleEvent>? {
        guard listening else { return nil }
        if lastSeen[tenant] == nil {
            let latest = try await Self.latest(database, tenant)
            if lastSeen[tenant] == nil { lastSeen[tenant] = latest }
        }
        let (stream, continuation) = AsyncStream<ConsoleEvent>.makeStream(bufferingPolicy: .bufferingNewest(Self.buffer))
        let id = UUID()
        subscribers[tenant, default: [:]][id] = continuation
        continuation.onTermination = { _ in Task { await self.unsubscribe(tenant, id) } }
        return stream
    }

    private func unsubscribe(_ tenant: TenantSlug, _ id: UUID) {
        subscribers[tenant]?[id] = nil
        if subscribers[tenant]?.isEmpty == true {
            subscribers[tenant] = nil
            lastSeen[tenant] = nil
        }
    }

    /// How many streams are open (for metrics and tests).
    public var streams: Int { subscribers.values.reduce(0) { $0 + $1.count } }

    /// Reads what `tenant` recorded since the last read and hands it to its streams.
    func deliver(_ tenant: TenantSlug) async {
        guard let subscribed = subscribers[tenant], !subscribed.isEmpty, let after = lastSeen[tenant] else { return }
        do {
            let events = try await Self.events(database, tenant, after: after, limit: 5_000)
            guard let last = events.last else { return }
            lastSeen[tenant] = max(lastSeen[tenant] ?? 0, last.id)
            for continuation in (subscribers[tenant] ?? [:]).values {
                for event in events { continuation.yield(event) }
            }
        } catch {
            logger.warning("console events could not be read", metadata: ["tenant": .string(tenant.value), "error": .string(String(reflecting: error))])
        }
    }

    /// The id of `tenant`'s latest event (0 when there is none).
    static func latest(_ database: Database, _ tenant: TenantSlug) async throws -> Int64 {
        try await database.withTenant(tenant) { connection -> Int64 in
            var latest: Int64 = 0
            for try await id in try await connection.query("SELECT COALESCE(max(id), 0) FROM console_events", logger: database.logger)
                .decode(Int64.self) { latest = id }
            return latest
        }
    }

    /// `tenant`'s events after `after`, oldest first.
    public static func events(_ database: Database, _ tenant: TenantSlug, after: Int64, limit: Int) async throws -> [ConsoleEvent] {
        try await database.withTenant(tenant) { connection in
            var events: [ConsoleEvent] = []
            for try await (id, topic, subject, kind) in try await connection.query("""
                SELECT id, topic, subject_id, kind FROM console_events WHERE id > \(after) ORDER BY id LIMIT \(limit)
                """, logger: database.logger).decode((Int64, String, UUID, String).self) {
                events.append(ConsoleEvent(id: id, topic: topic, subjectID: subject, kind: kind))
            }
            return events
        }
    }

    /// Listens until the service group shuts down; reconnects after errors.
    public func run() async throws {
        listening = true
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.database.client.withConnection { connection in
                        try await connection.listen(on: Self.channel) { notifications in
                            for try await notification in notifications {
                                guard notification.payload.hasPrefix("tenant_"),
                                      let tenant = TenantSlug(String(notification.payload.dropFirst("tenant_".count))) else { continue }
                                await self.deliver(tenant)
                            }
                        }
                    }
                } catch {
                    if Task.isCancelled { return }
                    self.logger.warning("console event listener stopped; reconnecting", metadata: ["error": .string("\(error)")])
                    try? await Task.sleep(for: .seconds(2))
                }
            }
        }
        listening = false
        for continuation in subscribers.values.flatMap(\.values) { continuation.finish() }
    }
}

/// `GET /events`: the signed-in person's tenant's changes as Server-Sent Events. What was missed since `Last-Event-ID`
/// comes first (from the table, at most an hour back), then every change as it commits, and a comment every 20 s so
/// that proxies keep the connection open.
struct ConsoleEventStream {
    let hub: ConsoleEventHub
    let database: Database
    static let heartbeat: Duration = .seconds(20)

    func response(_ request: Request, tenant: TenantSlug) async throws -> Response {
        let live = try await hub.subscribe(tenant)
        var missed: [ConsoleEvent] = []
        if let raw = request.headers[HTTPField.Name("Last-Event-ID")!], let last = Int64(raw), last >= 0 {
            missed = try await ConsoleEventHub.events(database, tenant, after: last, limit: 1_000)
        }
        let (lines, output) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(ConsoleEventHub.buffer))
        let replayedUpTo = missed.last?.id ?? 0
        let forward = Task {
            output.yield("retry: 3000\n\n")
            for event in missed { output.yield(event.text) }
            if let live {
                for await event in live where event.id > replayedUpTo { output.yield(event.text) }
            }
            output.finish()
        }
        let beat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.heartbeat)
                output.yield(": keep-alive\n\n")
            }
        }
        output.onTermination = { _ in
            forward.cancel()
            beat.cancel()
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
                         body: ResponseBody { writer in
                             defer { forward.cancel(); beat.cancel() }
                             for await text in lines { try await writer.write(ByteBuffer(string: text)) }
                             try await writer.finish(nil)
                         })
    }
}
