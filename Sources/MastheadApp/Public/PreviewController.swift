import Foundation
import HTTPTypes
import Hummingbird
import MastheadCore
import MastheadRendering
import MastheadStorage

/// `/preview/<token>/`: an unpublished article as it will look, for whoever has the private link
/// (made in the editor; unguessable, expiring). Never cached, never indexed.
struct PreviewController: Sendable {
    let site: Site

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/preview/:token") { request, context -> Response in
            let token = try context.parameters.require("token")
            guard token.count >= 32, let article = try await site.store.articleForPreview(token: token) else { throw HTTPError(.notFound) }
            let views = site.views
            var view = views.articlePage(article, related: [], sections: try await site.store.sections())
            view.frame.documentTitle = "Preview: " + view.frame.documentTitle
            let html = try site.theme.render(view, template: "article")
            return Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store", HTTPField.Name("X-Robots-Tag")!: "noindex, nofollow"],
                body: .init(byteBuffer: ByteBuffer(string: html)))
        }
    }
}
