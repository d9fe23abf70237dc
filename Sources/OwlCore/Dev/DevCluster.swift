import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL cluster under the project folder (`.owl/`), driven with initdb and pg_ctl.
/// When run as root it runs PostgreSQL as an unprivileged user, which PostgreSQL insists on.
public struct DevCluster: Sendable {
    public let root: URL
    public let logger: Logger
    public var dataDirectory: URL { root.appendingPathComponent("pgdata") }
    var portFile: URL { root.appendingPathComponent("port") }
    var logFile: URL { root.appendingPathComponent("postgres.log") }
    public static let superuser = "owl"

    public init(root: URL, logger: Logger) {
        self.root = root
        self.logger = logger
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The directory of initdb/pg_ctl of the newest PostgreSQL 15 or later on this machine.
    public static func binaries() throws -> URL {
        let fm = FileManager.default
        let base = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = ((try? fm.contentsOfDirectory(atPath: base.path)) ?? []).compactMap(Int.init).filter { $0 >= 15 }.sorted()
        if let newest = versions.last {
            return base.appendingPathComponent("\(newest)/bin")
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            if fm.isExecutableFile(atPath: "\(dir)/initdb") && fm.isExecutableFile(atPath: "\(dir)/pg_ctl") {
                return URL(fileURLWithPath: String(dir))
            }
        }
        throw Failure(description: "PostgreSQL 15 or later is not installed (initdb and pg_ctl not found); on Debian: apt-get install postgresql")
    }

    /// Starts the cluster (creating it on first use) and returns its port.
    public func start(reset: Bool) async throws -> Int {
        let bin = try Self.binaries()
        let fm = FileManager.default
        if reset {
            if isRunning(bin: bin) { try stop() }
            try? fm.removeItem(at: dataDirectory)
            try? fm.removeItem(at: portFile)
        }
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        let runAs = try Self.unprivilegedUser()
        if !fm.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) {
            try? fm.removeItem(at: dataDirectory)
            try fm.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
            try chown(dataDirectory, to: runAs)
            logger.info("creating the development PostgreSQL cluster", metadata: ["path": .string(dataDirectory.path)])
            try run(bin.appendingPathComponent("initdb").path,
                    ["-D", dataDirectory.path, "-U", Self.superuser, "--auth=trust", "-E", "UTF8", "--locale=C"], as: runAs)
        }
        if isRunning(bin: bin) {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text) {
                logger.info("development PostgreSQL is already running", metadata: ["port": .stringConvertible(port)])
                return port
            }
            // Running, but we do not know its port (an interrupted start): restart it cleanly.
            try stop()
        }
        let port = try Self.freePort(preferring: (try? String(contentsOf: portFile, encoding: .utf8)).flatMap(Int.init) ?? 54329)
        try? fm.removeItem(at: logFile)
        fm.createFile(atPath: logFile.path, contents: nil)
        try chown(logFile, to: runAs)
        try run(bin.appendingPathComponent("pg_ctl").path, [
            "-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "60",
            "-o", "-p \(port) -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200",
            "start",
        ], as: runAs)
        try String(port).write(to: portFile, atomically: true, encoding: .utf8)
        return port
    }

    public func stop() throws {
        let bin = try Self.binaries()
        guard isRunning(bin: bin) else { return }
        try run(bin.appendingPathComponent("pg_ctl").path, ["-D", dataDirectory.path, "-m", "fast", "-w", "stop"], as: try Self.unprivilegedUser())
    }

    func isRunning(bin: URL) -> Bool {
        guard FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("postmaster.pid").path) else { return false }
        return (try? run(bin.appendingPathComponent("pg_ctl").path, ["-D", dataDirectory.path, "status"], as: try Self.unprivilegedUser(), quiet: true)) != nil
    }

    /// nil when not root; otherwise `postgres` (Debian's package creates it) or `nobody`.
    static func unprivilegedUser() throws -> String? {
        guard geteuid() == 0 else { return nil }
        for name in ["postgres", "nobody"] where getpwnam(name) != nil { return name }
        throw Failure(description: "running as root, but neither the postgres nor the nobody user exists to run PostgreSQL")
    }

    func chown(_ url: URL, to user: String?) throws {
        guard let user, let entry = getpwnam(user) else { return }
        guard Glibc.chown(url.path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
            throw Failure(description: "could not hand \(url.path) to \(user)")
        }
    }

    @discardableResult
    func run(_ executable: String, _ arguments: [String], as user: String?, quiet: Bool = false) throws -> String {
        let argv = user.map { ["/usr/sbin/runuser", "-u", $0, "--", executable] + arguments } ?? [executable] + arguments
        // Output goes to a file, not a pipe: the server that pg_ctl starts inherits descriptors and would hold a
        // pipe open for ever.
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("owl-dev-\(UUID().uuidString).out").path
        defer { unlink(outputPath) }
        let status = try Self.spawnAndWait(argv, outputPath: outputPath)
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            if !quiet { logger.error("command failed", metadata: ["command": .string(executable), "output": .string(text)]) }
            throw Failure(description: "\(URL(fileURLWithPath: executable).lastPathComponent) failed: \(text.suffix(800))")
        }
        return text
    }

    /// posix_spawn and waitpid: Foundation's Process can miss the exit of a child whose grandchild lives on.
    static func spawnAndWait(_ argv: [String], outputPath: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard spawned == 0 else { throw Failure(description: "could not start \(argv[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw Failure(description: "waiting for \(argv[0]) failed") }
        }
        // WIFEXITED / WEXITSTATUS by hand: the C macros are not imported.
        return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    /// A loopback port nobody listens on, trying `preferring` first.
    static func freePort(preferring: Int) throws -> Int {
        for port in [preferring] + Array(54329...54429) where canBind(port) { return port }
        throw Failure(description: "no free port between 54329 and 54429 for PostgreSQL")
    }

    static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
