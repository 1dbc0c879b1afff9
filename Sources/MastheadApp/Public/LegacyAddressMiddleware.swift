import Hummingbird
import MastheadStorage

/// Addresses a site had before it moved to Masthead (a WordPress permalink, `?p=12`, a Ghost
/// slug) answer with a permanent redirect to where their content is now. Only asked when the
/// address is not a page here, and for the home page with WordPress's `?p=` or `?page_id=`:
/// pages that exist cost nothing.
struct LegacyAddressMiddleware<Context: RequestContext>: RouterMiddleware {
    let store: Store

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head else { return try await next(request, context) }
        let path = request.uri.path
        if path == "/" || path == "/index.php", let query = request.uri.query, query.contains("p=") || query.contains("page_id=") {
            if let moved = try await redirect(path, query) { return moved }
        }
        do {
            let response = try await next(request, context)
            guard response.status == .notFound else { return response }
            return try await redirect(path, nil) ?? response
        } catch let error as HTTPError where error.status == .notFound {
            if let moved = try await redirect(path, nil) { return moved }
            throw error
        }
    }

    private func redirect(_ path: String, _ query: String?) async throws -> Response? {
        guard path.utf8.count <= 2048, let target = try await store.legacyAddress(Store.legacyKey(path: path, query: query)) else { return nil }
        return Response(status: .movedPermanently, headers: [.location: target, .cacheControl: "public, max-age=86400"])
    }
}
