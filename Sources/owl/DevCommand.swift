import ArgumentParser
import AsyncHTTPClient
import BookOwl
import Foundation
import Hummingbird
import Logging
import NightOwl
import OwlCore
import ServiceLifecycle
import TicketOwl

/// `owl dev`: a private PostgreSQL under `.owl/`, the demo tenant, and all three services on 8080–8082.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev", abstract: "Start PostgreSQL under .owl/, seed tenant acme and serve all services (Ctrl-C stops).")

    @Flag(help: "Delete the development database and start from scratch.") var reset = false
    @Option(help: "Folder for the development cluster.") var dataDir = ".owl"
    @Option(help: "Address to listen on.") var host = "127.0.0.1"

    func run() async throws {
        OwlLogging.bootstrap(format: .text, level: .info)
        let logger = Logger(label: "owl-dev")
        let root = URL(fileURLWithPath: dataDir, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
        let cluster = DevCluster(root: root, logger: logger)
        let port: Int
        do { port = try await cluster.start(reset: reset) } catch let error as DevCluster.Failure {
            FileHandle.standardError.write(Data("owl dev: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        var applications: [any Service] = []
        var lines: [String] = []
        do {
            for definition in [NightOwlService.definition, BookOwlService.definition, TicketOwlService.definition] {
                let url = DatabaseURL(host: "127.0.0.1", port: port, username: DevCluster.superuser, password: nil, database: definition.name)
                try await DatabaseAdmin.ensureDatabase(url, logger: logger)
                let config = ServiceConfig(serviceName: definition.name, databaseURL: url, listenHost: host,
                                           listenPort: definition.defaultPort, devMode: true, logLevel: .info, logFormat: .text,
                                           encryptionKey: ServiceConfig.devEncryptionKey, databasePoolSize: 10)
                // A new cluster gets the full demo data; later starts keep what the user changed.
                try await ServiceRunner(definition: definition, config: config).withDatabase { database in
                    let seeder = Seeder(definition: definition, database: database)
                    let exists = try await DatabaseAdmin.tenantExists(Seeder.devTenant, in: database)
                    if exists { try await seeder.seed() } else { try await seeder.seedDemo() }
                }
                var serviceLogger = Logger(label: definition.name)
                serviceLogger.logLevel = .info
                applications.append(ServiceApplication.make(definition: definition, config: config, logger: serviceLogger,
                                                            httpClient: HTTPClient.shared, withWorkers: true))
                lines.append("  \(definition.displayName.padding(toLength: 10, withPad: " ", startingAt: 0)) http://\(host):\(definition.defaultPort)  (docs: /api/docs)")
            }
        } catch {
            try? cluster.stop()
            throw error
        }
        // Written straight to the file descriptor: `print` is block-buffered into a pipe or a log file, and the banner
        // must show the moment the services are up.
        FileHandle.standardOutput.write(Data("""

            Owl is running (PostgreSQL on 127.0.0.1:\(port), data in \(root.path)):
            \(lines.joined(separator: "\n"))
              tenant     acme
              API key    \(Seeder.devAPIKey)

            Open http://\(host):8080 and sign in as one of the demo users (one click, development mode only).
            Try: curl -H 'X-API-Key: \(Seeder.devAPIKey)' http://\(host):8080/api/v1/ping
            Ctrl-C stops the services and PostgreSQL.

            """.utf8))
        let group = ServiceGroup(configuration: .init(services: applications, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("stopped with an error", metadata: ["error": .string(String(reflecting: error))])
        }
        logger.info("stopping PostgreSQL")
        try cluster.stop()
    }
}
