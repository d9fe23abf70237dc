import ArgumentParser
import Foundation
import Logging
import OwlCore

/// `owl dev-postgres start|stop`: the development cluster on its own, for the test script.
struct DevPostgresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-postgres", abstract: "Start or stop a private PostgreSQL cluster (used by scripts/test).",
        subcommands: [Start.self, Stop.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start the cluster and print a database URL.")
        @Option(help: "Folder for the cluster.") var dataDir: String
        @Option(help: "Database to create.") var database = "owl_test"
        @Flag(help: "Start from an empty cluster.") var reset = false

        func run() async throws {
            let logger = Logger(label: "owl-dev-postgres")
            let cluster = DevCluster(root: URL(fileURLWithPath: dataDir).standardizedFileURL, logger: logger)
            let port = try await cluster.start(reset: reset)
            let url = DatabaseURL(host: "127.0.0.1", port: port, username: DevCluster.superuser, password: nil, database: database)
            try await DatabaseAdmin.ensureDatabase(url, logger: logger)
            print(url.urlString)
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the cluster.")
        @Option(help: "Folder of the cluster.") var dataDir: String

        func run() async throws {
            try DevCluster(root: URL(fileURLWithPath: dataDir).standardizedFileURL, logger: Logger(label: "owl-dev-postgres")).stop()
        }
    }
}
