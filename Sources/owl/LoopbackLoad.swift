import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 load generator for the benchmarks, in the manner of `wrk`: one plain thread and one keep-alive
/// connection per client, requests prepared before the clock starts, blocking socket calls. On two cores the load
/// generator shares the machine with the server and PostgreSQL, so it has to cost as little as possible; a general
/// HTTP client spent more CPU than the server it measured.
struct LoopbackLoad {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What one request got back.
    struct Reply {
        var status: Int
        var body: [UInt8]
    }

    let port: Int

    /// A request with a body, ready to send.
    static func post(_ path: String, headers: [(String, String)], body: [UInt8]) -> [UInt8] {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    static func get(_ path: String, headers: [(String, String)]) -> [UInt8] {
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return Array((head + "\r\n").utf8)
    }

    /// Runs `clients` threads; client `c` sends `requests(c)` one after another on its own connection and checks each
    /// reply with `check`. Returns every request's latency.
    func run(clients: Int, requests: @escaping @Sendable (Int) -> [[UInt8]],
             check: @escaping @Sendable (Reply) -> Bool) async throws -> [Duration] {
        let results = ResultsBox(count: clients)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let group = DispatchGroup()
            for client in 0..<clients {
                group.enter()
                let thread = Thread { [port] in
                    results.set(client, Result { try Self.drive(port: port, requests: requests(client), check: check) })
                    group.leave()
                }
                thread.stackSize = 1 << 20
                thread.start()
            }
            group.notify(queue: .global()) { done.resume() }
        }
        return try results.all().flatMap { try $0.get() }
    }

    private static func drive(port: Int, requests: [[UInt8]], check: (Reply) -> Bool) throws -> [Duration] {
        let connection = try Connection(port: port)
        defer { close(connection.fd) }
        let clock = ContinuousClock()
        var latencies: [Duration] = []
        latencies.reserveCapacity(requests.count)
        for request in requests {
            let sent = clock.now
            try connection.send(request)
            let reply = try connection.receive()
            latencies.append(clock.now - sent)
            guard check(reply) else {
                throw Failure(description: "HTTP \(reply.status): \(String(decoding: reply.body.prefix(300), as: UTF8.self))")
            }
        }
        return latencies
    }

    /// One keep-alive connection with a read buffer.
    final class Connection {
        let fd: Int32
        private var buffer: [UInt8] = []
        private var chunk = [UInt8](repeating: 0, count: 64 * 1024)

        init(port: Int) throws { fd = try Self.connect(port: port) }

        /// A connected TCP socket to 127.0.0.1:`port`, without delay on small writes.
        static func connect(port: Int) throws -> Int32 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "socket() failed") }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { close(fd); throw Failure(description: "connect to port \(port) failed") }
            return fd
        }

        func send(_ bytes: [UInt8]) throws {
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw Failure(description: "send failed") }
                offset += n
            }
        }

        /// Reads one response: status line and headers, then exactly Content-Length bytes of body. Parsed on the
        /// bytes, as `wrk` does: string handling here cost a tenth of the process's CPU in `owl bench ingest`.
        func receive() throws -> Reply {
            var scanned = 0
            var headerEnd: Int?
            while headerEnd == nil {
                headerEnd = Self.headerEnd(in: buffer, from: scanned)
                if headerEnd == nil {
                    scanned = max(0, buffer.count - 3)
                    try fill()
                }
            }
            let end = headerEnd!
            guard let status = Self.status(buffer[..<end]) else { throw Failure(description: "bad status line") }
            let length = Self.contentLength(buffer[..<end]) ?? 0
            let bodyStart = end + 4
            while buffer.count < bodyStart + length { try fill() }
            let body = Array(buffer[bodyStart..<(bodyStart + length)])
            buffer.removeFirst(bodyStart + length)
            return Reply(status: status, body: body)
        }

        private func fill() throws {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Failure(description: "connection closed by the server") }
            buffer.append(contentsOf: chunk[..<n])
        }

        static func headerEnd(in bytes: [UInt8], from start: Int) -> Int? {
            guard bytes.count >= 4 else { return nil }
            var i = start
            while i <= bytes.count - 4 {
                if bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i }
                i += 1
            }
            return nil
        }

        /// The three digits after "HTTP/1.x ".
        static func status(_ head: ArraySlice<UInt8>) -> Int? {
            let digits = head.dropFirst(9).prefix(3)
            guard head.starts(with: Array("HTTP/1.".utf8)), digits.count == 3, digits.allSatisfy({ (48...57).contains($0) }) else { return nil }
            return digits.reduce(0) { $0 * 10 + Int($1 - 48) }
        }

        /// The value of the Content-Length header, matched without regard to case.
        static func contentLength(_ head: ArraySlice<UInt8>) -> Int? {
            let name = Array("\r\ncontent-length:".utf8)
            var i = head.startIndex
            while i + name.count <= head.endIndex {
                var matches = true
                for k in 0..<name.count where head[i + k] | (head[i + k] >= 65 && head[i + k] <= 90 ? 32 : 0) != name[k] {
                    matches = false
                    break
                }
                if matches {
                    var j = i + name.count
                    while j < head.endIndex, head[j] == 32 || head[j] == 9 { j += 1 }
                    var value = 0
                    var digits = 0
                    while j < head.endIndex, (48...57).contains(head[j]) {
                        value = value * 10 + Int(head[j] - 48)
                        digits += 1
                        j += 1
                    }
                    return digits > 0 ? value : nil
                }
                i += 1
            }
            return nil
        }
    }

    /// Per-client results, written by the client threads.
    final class ResultsBox: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [Result<[Duration], any Error>?]
        init(count: Int) { results = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ result: Result<[Duration], any Error>) { lock.withLock { results[index] = result } }
        func all() -> [Result<[Duration], any Error>] {
            lock.withLock { results.map { $0 ?? .failure(Failure(description: "a client did not finish")) } }
        }
    }
}
