import Hummingbird
import Logging
import MastheadCore
import MastheadForms
import MastheadStorage
import HTTPTypes
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

    /// A stable, private name for the client, for in-memory counters only: its address, or the
    /// address a trusted reverse proxy forwarded (see ``ClientAddress``).
    public var clientName: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        clientName = ClientAddress.name(of: source.channel.remoteAddress)
    }

    /// A request made inside the process, with no connection (`export-static` renders pages this way).
    init(inProcess logger: Logger) {
        coreContext = .init(source: InProcessSource(logger: logger))
        remoteAddress = nil
        clientName = "in-process"
    }

    private struct InProcessSource: RequestContextSource {
        var logger: Logger
    }

    /// Uploads (media, featured images) may be as large as the image limit allows, plus the form around them.
    public var maxUploadSize: Int { 64 * 1024 * 1024 }

}

/// Who the client is, for rate limits: the connection's peer, or — when the peer is one of the
/// site's trusted reverse proxies (`trusted_proxies`) — the nearest address in `X-Forwarded-For`
/// that is not itself a trusted proxy. Used in memory only; never logged or stored.
public enum ClientAddress {
    public static func name(of address: SocketAddress?) -> String {
        name(of: address?.ipAddress ?? "unknown")
    }

    /// The name limits count an address under: IPv4 as it is, IPv6 by its /64 network.
    public static func name(of address: String) -> String {
        NetworkAddress(address)?.rateLimitName ?? address
    }

    /// The client's address for a peer and its `X-Forwarded-For` header, given the trusted proxies.
    public static func resolve(peer: String, forwardedFor: String?, trusted: Set<String>) -> String {
        guard trusted.contains(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for hop in hops.reversed() where !trusted.contains(hop) {
            return hop
        }
        return hops.first ?? peer
    }
}

/// Replaces the client's name with the forwarded address when the request came through a
/// trusted reverse proxy, so limits apply to readers, not to the proxy.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = MastheadRequestContext
    let trusted: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !trusted.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientName = ClientAddress.name(of: ClientAddress.resolve(
            peer: context.remoteAddress?.ipAddress ?? "unknown", forwardedFor: request.headers[HTTPField.Name("X-Forwarded-For")!], trusted: trusted))
        return try await next(request, context)
    }
}
