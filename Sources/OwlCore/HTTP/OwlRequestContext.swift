import Hummingbird
import Logging
import NIOCore

/// The request context of every Owl service: carries the request id and, once authenticated, the caller.
public struct OwlRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String = ""
    /// Set by `AuthenticationMiddleware` when the request carried valid credentials.
    public var principal: Principal?
    /// Source address, for audit entries; formatted only when asked for (most requests never need it).
    public var remoteAddress: String? { remoteSocketAddress?.ipAddress }
    private let remoteSocketAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteSocketAddress = source.channel.remoteAddress
    }

    /// Bodies are read through `JSON.decode`, which applies the configured limit itself.
    public var maxUploadSize: Int { 64 << 20 }
}
