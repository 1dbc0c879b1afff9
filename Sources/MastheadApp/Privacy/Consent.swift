import Foundation
import HTTPTypes
import Hummingbird
import MastheadCore
import MastheadForms
import MastheadRendering
import MastheadStorage

extension ConsentState {
    /// The reader's consent as `request` shows it (cookie, Global Privacy Control, Do Not Track).
    init(request: Request, policy: ConsentPolicy, now: Date = .now) {
        self.init(
            cookie: request.cookies[ConsentState.cookieName]?.value,
            globalPrivacyControl: request.headers[HTTPField.Name("Sec-GPC")!], doNotTrack: request.headers[HTTPField.Name("DNT")!],
            policy: policy, now: now)
    }
}

/// Reads the reader's consent once per request and makes it the current state while the page is
/// built, so every view, the page cache and the security headers agree on it.
struct ConsentMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: ConsentPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await ConsentState.$current.withValue(ConsentState(request: request, policy: policy)) {
            try await next(request, context)
        }
    }
}

extension ConsentPolicy {
    /// The Content-Security-Policy of a public page for `state`: the site's own resources only,
    /// plus the origins of the services in categories the reader granted.
    func contentSecurityPolicy(for state: ConsentState) -> String {
        let origins = categories.filter { state.allows($0.id) }.flatMap(\.services).flatMap { service in
            service.origins + (service.script.flatMap { URL(string: $0) }.flatMap { url in url.host.map { "\(url.scheme ?? "https")://\($0)" } }.map { [$0] } ?? [])
        }
        let unique = Array(NSOrderedSet(array: origins)) as? [String] ?? []
        let extra = unique.isEmpty ? "" : " " + unique.joined(separator: " ")
        let scripts = unique.isEmpty ? "'none'" : unique.joined(separator: " ")
        return "default-src 'self'; img-src 'self' https: data:; style-src 'self'; style-src-attr 'unsafe-inline'; script-src \(scripts); "
            + "frame-src 'self'\(extra); connect-src 'self'\(extra); object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
    }
}

/// `/consent/`: the second layer (every category, what it stores, who is involved, the reader's
/// consent id) and the one place choices are posted to, from the notice, this page and the
/// placeholders of embedded media. Every choice is recorded without the reader's address.
struct ConsentController: Sendable {
    let store: Store
    let theme: Theme
    let views: ViewBuilder
    let policy: ConsentPolicy
    let secureCookies: Bool
    /// The site's own host name (from `base_url`), besides the one the request names.
    let siteHost: String?
    /// Every choice is a stored record: a script posting choices in a loop is stopped here
    /// (a reader changes their mind a few times, not dozens of times an hour).
    let choices = ClientRateLimit(perHour: 30)

    func addRoutes(to router: Router<MastheadRequestContext>) {
        router.get("/consent") { request, _ in try await page(request) }
        router.post("/consent") { request, context in
            guard choices.allow(context.clientName) else {
                throw HTTPError(.tooManyRequests, message: "Too many privacy choices from your connection in the last hour; nothing was recorded. Try again later.")
            }
            return try await choose(request)
        }
    }

    private func page(_ request: Request) async throws -> Response {
        guard request.uri.path.hasSuffix("/") else { return Response(status: .movedPermanently, headers: [.location: "/consent/"]) }
        let state = ConsentState.current
        let view = ConsentPageView(
            frame: views.frame(title: "Privacy settings", description: "Choose what this site may store on your device and load from other sites.",
                               path: "/consent/", sections: try await store.sections()),
            necessary: policy.necessary,
            categories: policy.categories.map { category in
                ConsentCategoryView(
                    id: category.id, name: category.name, description: category.description, storage: category.storage,
                    services: category.services.map { ConsentServiceView(name: $0.name, purpose: $0.purpose, privacyURL: $0.privacyURL) },
                    hasServices: !category.services.isEmpty, granted: state.allows(category.id))
            },
            consentID: state.consentID, decided: state.decided && !state.privacySignal, privacySignal: state.privacySignal,
            renewMonths: Int((policy.renewAfter / (30.4 * 86_400)).rounded()), policyVersion: policy.version)
        let html = try theme.render(view, template: "consent")
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "private, no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    private func choose(_ request: Request) async throws -> Response {
        // No cookie may exist before the choice, so cross-site posts are refused by their origin.
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], !["same-origin", "none"].contains(site) {
            throw HTTPError(.forbidden, message: "Privacy choices can only be made on this site's own pages.")
        }
        let ownHosts = Set([Self.host(of: request), siteHost].compactMap { $0 })
        if let origin = request.headers[.origin], let host = URL(string: origin)?.host, !ownHosts.contains(host) {
            throw HTTPError(.forbidden, message: "Privacy choices can only be made on this site's own pages.")
        }
        let form = try await FormData.read(request, limits: FormLimits(bodyBytes: 64 * 1024))
        let current = request.cookies[ConsentState.cookieName].flatMap { ConsentState.parse($0.value) }
        let currentState = ConsentState.current
        let all = Set(policy.categoryIDs)
        let granted: Set<String>
        switch form["choice"] {
        case "accept": granted = all
        case "reject": granted = []
        case "choose": granted = Set(form.all("categories")).intersection(all)
        case "grant": granted = currentState.granted.union([form["category"]]).intersection(all)
        default: throw HTTPError(.badRequest, message: "The form says neither accept, reject, choose nor grant.")
        }
        let id = current?.id ?? SecretToken.make(bytes: 12)
        try await store.recordConsent(id: id, policyVersion: policy.version, action: form["choice"], granted: Array(granted))
        var response = Response(status: .seeOther, headers: [.location: Self.returnPath(form["return"], referer: request.headers[.referer], hosts: ownHosts)])
        response.setCookie(Cookie(
            name: ConsentState.cookieName, value: ConsentState.cookieValue(version: policy.version, givenAt: .now, granted: granted, id: id),
            maxAge: Int(policy.renewAfter), path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax))
        return response
    }

    private static func host(of request: Request) -> String? {
        request.head.authority.map { String($0.split(separator: ":").first ?? "") }
    }

    /// Back where the reader chose: the form's `return` path, else the referring page of this site, else home.
    static func returnPath(_ given: String, referer: String?, hosts: Set<String>) -> String {
        let plain = !given.unicodeScalars.contains { CharacterSet.whitespacesAndNewlines.contains($0) || CharacterSet.controlCharacters.contains($0) }
        if plain, given.hasPrefix("/"), !given.hasPrefix("//"), !given.contains("\\") { return given }
        if let referer, let url = URLComponents(string: referer), let host = url.host, hosts.contains(host), !url.path.isEmpty {
            return url.path + (url.query.map { "?" + $0 } ?? "")
        }
        return "/"
    }
}
