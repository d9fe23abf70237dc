import Foundation
import Logging
import OwlCore

/// Runs a worker job for every tenant: one tenant's failure is logged with its slug and does not stop the others, and
/// the first failure is thrown at the end, so that the worker counts the job as failed.
enum EveryTenant {
    static func run(_ database: Database, logger: Logger, failure message: Logger.Message,
                    _ body: (Tenant) async throws -> Void) async throws {
        var failure: (any Error)?
        for tenant in try await TenantStore(database: database).list() {
            do { try await body(tenant) } catch {
                logger.error(message, metadata: ["tenant": .string(tenant.slug.value), "error": .string("\(error)")])
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
    }
}
