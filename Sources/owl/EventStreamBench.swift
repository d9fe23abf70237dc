import ArgumentParser
import Foundation
import Logging
import NightOwl
import OwlCore
#if canImport(Glibc)
import Glibc
#endif

/// The console's live updates under load: `--streams` open `/events` streams (as that many browser tabs), then
/// `--changes` alert changes one after another (an acknowledgement through the API each). For every change and every
/// stream, the time from sending the change until the stream carried it (an upper bound of "after its commit": the
/// request's own work is counted too), and how much the process's resident memory grew with the streams open.
struct EventStreamBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Live-update latency and memory with many open streams.")

    @Option(help: "PostgreSQL URL; default: a private cluster under --data-dir.") var databaseURL: String?
    @Option(help: "Folder for the private cluster.") var dataDir = ".owl-bench"
    @Option(help: "Open event streams.") var streams = 500
    @Option(help: "Alert changes to measure.") var changes = 40
    @Option(help: "Port to serve NightOwl on.") var port = 18_082

    func run() async throws {
        let (logger, config) = try await BenchEnvironment.prepare(databaseURL: databaseURL, dataDir: dataDir, port: port, poolSize: 8)
        let slug = TenantSlug("bench_events")!
        let changes = self.changes
        let (key, ids) = try await BenchEnvironment.withMigratedDatabase(config) { database, provisioner -> (String, [UUID]) in
            try await provisioner.drop(slug: slug)
            let tenant = try await provisioner.create(slug: slug, name: "Event benchmark", issueAdminKey: false).tenant
            let ids = try await database.withTenant(slug) { connection -> [UUID] in
                try await NightOwlService.definition.seed(connection, logger)
                var ids: [UUID] = []
                for try await id in try await connection.query("""
                    INSERT INTO alerts (fingerprint, status, severity, source, title, description, labels, first_fired_at, last_fired_at)
                    SELECT 'events-' || n, 'firing', 'critical', 'generic', 'Stream check ' || n, '', '{}', now(), now()
                    FROM generate_series(1, \(changes + 5)) AS n RETURNING id
                    """, logger: logger).decode(UUID.self) { ids.append(id) }
                return ids
            }
            let key = try await APIKeyStore(database: database).create(tenantID: tenant.id, role: .engineer, scopes: [], description: "bench",
                                                                       expiresAt: WallClock.system.now.addingTimeInterval(3600)).rawKey
            return (key, ids)
        }
        let (streams, port) = (self.streams, self.port)
        let output = try await BenchEnvironment.serving(NightOwlService.definition, config: config, logger: logger) { () async throws -> [String] in
            let load = LoopbackLoad(port: port)
            // Warm the server (routes, pool, templates) before the baseline.
            for id in ids.suffix(5) {
                _ = try await load.fetch(LoopbackLoad.get("/alerts/\(id.uuidString.lowercased())", headers: [("X-API-Key", key)]))
            }
            let before = ResidentMemory.bytes()
            let watcher = try StreamWatcher(port: port, streams: streams, key: key)
            try await watcher.waitUntilOpen()
            let clock = ContinuousClock()
            var latencies: [Duration] = []
            var missing = 0
            for id in ids.prefix(changes) {
                let text = id.uuidString.lowercased()
                watcher.expect(text)
                let sent = clock.now
                _ = try await load.run(clients: 1, requests: { _ in
                    [LoopbackLoad.request("PATCH", "/api/v1/alerts/\(text)/acknowledge", headers: [("X-API-Key", key)])]
                }, check: { $0.status == 200 })
                let arrivals = try await watcher.collect(timeout: .seconds(5))
                latencies += arrivals.map { $0 - sent }
                missing += streams - arrivals.count
                try await Task.sleep(for: .milliseconds(50))
            }
            let after = ResidentMemory.bytes()
            watcher.close()
            latencies.sort()
            return [
                String(format: "change → every stream: p50 %6.1f ms  p95 %6.1f ms  p99 %6.1f ms  max %6.1f ms  (%d deliveries, %d missed)",
                       BenchEnvironment.percentile(latencies, 0.50), BenchEnvironment.percentile(latencies, 0.95),
                       BenchEnvironment.percentile(latencies, 0.99), BenchEnvironment.percentile(latencies, 1.0), latencies.count, missing),
                String(format: "resident memory: %.1f MB before the streams, %.1f MB with them open: +%.1f MB",
                       Double(before) / 1_048_576, Double(after) / 1_048_576, Double(after - before) / 1_048_576),
            ]
        }
        print("\(streams) open event streams, \(changes) alert changes (an acknowledgement each, one at a time):")
        for line in output { print(line) }
    }
}

extension LoopbackLoad {
    /// A request without a body in any method.
    static func request(_ method: String, _ path: String, headers: [(String, String)]) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return Array((head + "\r\n").utf8)
    }
}

/// The process's resident set size, from `/proc/self/status`.
enum ResidentMemory {
    static func bytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
}

/// Many event streams read by one thread with `poll`: each stream is a socket that sent `GET /events`; the thread
/// notes when each socket first carries the id it is told to expect.
final class StreamWatcher: @unchecked Sendable {
    /// Plain sockets: a load connection's 64 KB read buffer each would count as the server's memory here.
    private let sockets: [Int32]
    private let lock = NSLock()
    private var expected: [UInt8] = []
    private var tails: [[UInt8]]
    private var arrived: [ContinuousClock.Instant?]
    private var opened: [Bool]
    private var running = true
    private var thread: Thread?

    init(port: Int, streams: Int, key: String) throws {
        sockets = try (0..<streams).map { _ in try LoopbackLoad.Connection.connect(port: port) }
        tails = Array(repeating: [], count: streams)
        arrived = Array(repeating: nil, count: streams)
        opened = Array(repeating: false, count: streams)
        let request = LoopbackLoad.get("/events", headers: [("X-API-Key", key), ("Accept", "text/event-stream")])
        for socket in sockets {
            let sent = request.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent == request.count else { throw LoopbackLoad.Failure(description: "sending the stream request failed") }
        }
        let thread = Thread { [self] in self.loop() }
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    /// Waits until every stream answered with its headers.
    func waitUntilOpen() async throws {
        for _ in 0..<600 {
            if lock.withLock({ opened.allSatisfy { $0 } }) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LoopbackLoad.Failure(description: "not every stream opened: \(lock.withLock { opened.filter { $0 }.count }) of \(sockets.count)")
    }

    func expect(_ id: String) {
        lock.withLock {
            expected = Array(id.utf8)
            arrived = Array(repeating: nil, count: sockets.count)
        }
    }

    /// The arrival times of the expected id, once every stream has it or `timeout` passed.
    func collect(timeout: Duration) async throws -> [ContinuousClock.Instant] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if lock.withLock({ arrived.allSatisfy { $0 != nil } }) { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        return lock.withLock { arrived.compactMap { $0 } }
    }

    func close() {
        lock.withLock { running = false }
        for socket in sockets { Glibc.shutdown(socket, Int32(SHUT_RDWR)) }
        while lock.withLock({ thread != nil }) { usleep(10_000) }
        for socket in sockets { Glibc.close(socket) }
    }

    private func loop() {
        var polls = sockets.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while lock.withLock({ running }) {
            guard poll(&polls, nfds_t(polls.count), 100) > 0 else { continue }
            let now = ContinuousClock.now
            for index in polls.indices where polls[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { recv(polls[index].fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { polls[index].fd = -1; continue }
                lock.withLock {
                    opened[index] = true
                    // Keep the end of what came before, so an id split between two reads is still found.
                    let seen = tails[index] + chunk[0..<count]
                    if arrived[index] == nil, !expected.isEmpty, Self.contains(seen, expected) { arrived[index] = now }
                    tails[index] = Array(seen.suffix(64))
                }
            }
        }
        lock.withLock { thread = nil }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
