import Hummingbird
import MastheadCore
import MastheadStorage
import NIOCore

/// The context of every request: Hummingbird's core, the client's address (used only in memory,
/// for sign-in throttling, never logged or stored) and, in the newsroom, who is signed in.
public struct MastheadRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection's peer; behind a reverse proxy this is the proxy.
    public let remoteAddress: SocketAddress?
    /// The signed-in session, set by ``NewsroomSessionMiddleware`` on `/admin/` pages.
    public var session: SessionRecord?
    /// The account an Admin API key acts for, set by ``AdminAPIAuthMiddleware``.
    public var apiUser: User?
    /// The fields of a form posted to the newsroom, read (and its CSRF token checked) once by the middleware.
    public var form: FormData?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Uploads (media, featured images) may be as large as the image limit allows, plus the form around them.
    public var maxUploadSize: Int { 64 * 1024 * 1024 }

    /// A stable, private name for the client, for in-memory counters only.
    var clientName: String {
        switch remoteAddress {
        case .v4(let address): "4:" + address.host
        case .v6(let address): "6:" + address.host
        default: "unknown"
        }
    }
}
