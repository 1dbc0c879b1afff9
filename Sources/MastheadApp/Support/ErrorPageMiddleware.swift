import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MastheadCore
import MastheadRendering
import MastheadStorage

/// Turns errors into pages a reader can use: the theme's 404 page for anything not found (or a
/// permanent redirect, for an address the site had before it moved to Masthead: a WordPress
/// permalink, a Ghost slug, an old picture), and a 500 page that says nothing of the failure.
/// The log gets the detail.
struct ErrorPageMiddleware<Context: RequestContext>: RouterMiddleware {
    let store: Store
    let theme: Theme
    let views: ViewBuilder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPResponseError where error.status == .notFound {
            return await page(status: 404, for: request, logger: context.logger)
        } catch let error as HTTPResponseError where error.status.code < 500 {
            throw error
        } catch let error as MastheadError where error.isRefusal {
            // A refusal no handler turned into an answer: still the sender's mistake, never a 500.
            if error.code == .notFound { return await page(status: 404, for: request, logger: context.logger) }
            throw HTTPError(error.code == .forbidden ? .forbidden : error.code == .conflict ? .conflict : .unprocessableContent, message: error.message)
        } catch let error where MastheadError.storageFault(error) != nil {
            // A full disk or a read-only database: said plainly, to the reader and in the log.
            let fault = MastheadError.storageFault(error)!
            context.logger.error("cannot write", metadata: ["masthead.error": "\(fault.message)"])
            return await page(status: fault.httpStatus.code, for: request, logger: context.logger, storageFault: fault.message)
        } catch {
            if TipLinePaths.contains(request.uri.path) {
                // Nothing about the tip: not its address, not the error's words, only its kind.
                context.logger.error("a tip line request failed", metadata: ["masthead.error.type": "\(type(of: error))"])
            } else {
                context.logger.error(
                    "request failed",
                    metadata: ["masthead.path": "\(LoggedPath.redacted(request.uri.path))", "masthead.error": "\(String(reflecting: error))"])
            }
            return await page(status: 500, for: request, logger: context.logger)
        }
    }

    private func page(status: Int, for request: Request, logger: Logger, storageFault: String? = nil) async -> Response {
        // Only addresses that are no page here are looked up, so pages that exist cost nothing.
        if status == 404, request.method == .get || request.method == .head, let moved = await legacyRedirect(request) { return moved }
        let responseStatus = HTTPResponse.Status(code: status)
        let headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        let sections = (try? await store.sections()) ?? []
        let html: String
        do {
            html = try theme.render(
                views.errorPage(status: status, path: request.uri.path, sections: sections, storageFault: storageFault), template: "error")
        } catch {
            logger.error("the error page itself failed", metadata: ["masthead.error": "\(error)"])
            html = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head><body><main><h1>Sorry, something went wrong.</h1><p><a href=\"/\">Front page</a></p></main></body></html>"
        }
        if request.method == .head { return Response(status: responseStatus, headers: headers) }
        return Response(status: responseStatus, headers: headers, body: .init(byteBuffer: .init(string: html)))
    }

    private func legacyRedirect(_ request: Request) async -> Response? {
        let path = request.uri.path
        guard path.utf8.count <= 2048, let target = try? await store.legacyAddress(Store.legacyKey(path: path, query: request.uri.query)) else {
            return nil
        }
        return .movedPermanently(to: target)
    }
}

extension Response {
    /// A permanent redirect that browsers and proxies may keep for a day.
    static func movedPermanently(to target: String) -> Response {
        Response(status: .movedPermanently, headers: [.location: target, .cacheControl: "public, max-age=86400"])
    }
}

/// One log line per request: method, path, status and time taken. Never the client's address,
/// user agent or referrer, and never a query string, which may carry personal data. Refusals
/// raised as errors (a 403, a 413) are logged with their status like any other answer.
///
/// The tip line (`/tips…`) is not logged at all: a line with the time of a request there would
/// say when a source was in touch.
struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Normalised once: whether the request is the tip line's, and how its path is logged.
        let normal = TipLinePaths.normalized(request.uri.path)
        guard !normal.hasPrefix("/tips") else { return try await next(request, context) }
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, normal, status: response.status.code, since: start, logger: context.logger)
            return response
        } catch let error as HTTPResponseError {
            log(request, normal, status: error.status.code, since: start, logger: context.logger)
            throw error
        } catch {
            log(request, normal, status: 500, since: start, logger: context.logger)
            throw error
        }
    }

    private func log(_ request: Request, _ normalPath: String, status: Int, since start: ContinuousClock.Instant, logger: Logger) {
        let elapsed = ContinuousClock.now - start
        logger.info(
            "request",
            metadata: [
                "masthead.http.method": "\(request.method)",
                "masthead.http.path": "\(LoggedPath.redacted(request.uri.path, normalized: normalPath))",
                "masthead.http.status": "\(status)",
                "masthead.http.ms": "\(elapsed.components.attoseconds / 1_000_000_000_000_000 + elapsed.components.seconds * 1000)",
            ])
    }
}

/// The tip line's addresses, which no log names: also spelt with doubled slashes, encoded
/// characters or anything after `/tips` (answered with a redirect or a refusal, still not logged).
enum TipLinePaths {
    static func contains(_ path: String) -> Bool {
        normalized(path).hasPrefix("/tips")
    }

    /// `path` as routes read it: percent-decoded, lower case, runs of slashes (and backslashes) as one.
    static func normalized(_ path: String) -> String {
        // Most addresses are already in that form (lower-case ASCII, nothing encoded, single slashes).
        var previous: UInt8 = 0
        let plain = path.utf8.allSatisfy { byte in
            defer { previous = byte }
            return byte < 0x80 && byte != UInt8(ascii: "%") && byte != UInt8(ascii: "\\") && !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                && !(byte == UInt8(ascii: "/") && previous == UInt8(ascii: "/"))
        }
        if plain { return path }
        let decoded = (path.removingPercentEncoding ?? path).lowercased().replacingOccurrences(of: "\\", with: "/")
        guard decoded.contains("//") else { return decoded }
        return "/" + decoded.split(separator: "/").joined(separator: "/") + (decoded.hasSuffix("/") ? "/" : "")
    }
}

/// Headers that make every response safer to handle: no content sniffing, no referrer sent to
/// other sites beyond the origin, and for HTML a Content-Security-Policy that allows only the
/// site's own styles and images (and images from https sources, for pictures hosted elsewhere;
/// inline style attributes only for image placeholders). Pages carry no scripts, so none may run.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Services of granted consent categories are added to the policy; nothing else ever is.
    let consent: ConsentPolicy
    /// The policy for readers who granted nothing (most pages served): made once, not per response.
    private let closed: String
    /// Whether the site is served over HTTPS: then browsers are told to use nothing else (HSTS).
    let https: Bool

    init(consent: ConsentPolicy, https: Bool = false) {
        self.consent = consent
        self.https = https
        closed = consent.contentSecurityPolicy(for: ConsentState(decided: false, granted: [], privacySignal: false, consentID: nil))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        if https { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        if response.headers[.referrerPolicy] == nil { response.headers[.referrerPolicy] = "strict-origin-when-cross-origin" }
        // Pages that set their own policy (the newsroom's, the tip line's) keep it.
        if response.headers[.contentType]?.hasPrefix("text/html") == true || response.status == .notModified {
            if response.headers[.contentSecurityPolicy] == nil {
                let state = ConsentState.current
                response.headers[.contentSecurityPolicy] = state.granted.isEmpty ? closed : consent.contentSecurityPolicy(for: state)
            }
            if response.headers[.xFrameOptions] == nil { response.headers[.xFrameOptions] = "SAMEORIGIN" }
        }
        return response
    }
}

extension HTTPField.Name {
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let strictTransportSecurity = HTTPField.Name("Strict-Transport-Security")!
}

/// Paths as logs may show them: secrets in addresses (set-password links, preview links) cut out.
enum LoggedPath {
    static let secretPrefixes = ["/admin/set-password/", "/preview/"]

    static func redacted(_ path: String, normalized: String? = nil) -> String {
        let normal = normalized ?? TipLinePaths.normalized(path)
        for prefix in secretPrefixes where normal.hasPrefix(prefix) { return prefix + "…" }
        return path
    }
}

/// Addresses with empty segments (`//evil.example`, `/api//admin/`) are sent once to their
/// single-slash form, before any route or guard sees them, so no check on a path prefix can be
/// stepped around and no redirect can leave the site.
///
/// Encoded slashes, backslashes and NUL (`%2F`, `%5C`, `%00`) have no place in this site's
/// addresses; decoded, they would make one (`/media/%2Fx` → `/media//x`), so they are refused.
struct PathNormalizationMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        // Browsers read `\` as `/`: a redirect to `/\evil.example/` would leave the site.
        if path.contains("\\") || Self.hasEncodedSeparator(request.uri.string.split(separator: "?", maxSplits: 1).first ?? "") {
            let message = "Addresses on this site never hold a backslash, an encoded slash or NUL."
            // The APIs answer in their own error shape, which their clients read.
            if path.hasPrefix("/api/") || path.hasPrefix("/ghost/api/") {
                return AdminAPIController.error(.init(.badRequest, "BadRequestError", message))
            }
            throw HTTPError(.badRequest, message: message)
        }
        guard path.contains("//") else { return try await next(request, context) }
        var normal = "/" + path.split(separator: "/").joined(separator: "/")
        if path.hasSuffix("/"), normal != "/" { normal += "/" }
        let query = request.uri.query.map { "?" + $0 } ?? ""
        return Response(status: .movedPermanently, headers: [.location: normal + query])
    }

    static func hasEncodedSeparator(_ rawPath: Substring) -> Bool {
        guard rawPath.contains("%") else { return false }
        let upper = rawPath.uppercased()
        return upper.contains("%2F") || upper.contains("%5C") || upper.contains("%00")
    }
}

/// The folders served as files (`/assets/`, `/media/`, the newsroom's assets) answer only for
/// files: a folder's address is not found (no listing, and none of the file server's redirects),
/// nor is any hidden (dot) name.
struct StaticFolderMiddleware<Context: RequestContext>: RouterMiddleware {
    /// URL prefixes (with their trailing slash) and the folders they serve.
    let folders: [(prefix: String, directory: String)]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if let folder = folders.first(where: { path.hasPrefix($0.prefix) || path + "/" == $0.prefix }) {
            let relative = path.dropFirst(min(path.count, folder.prefix.count))
            var isDirectory: ObjCBool = false
            // Hidden names (an import's staging folder, upload spools, lock files) are never public.
            if relative.isEmpty || relative.hasSuffix("/") || relative.split(separator: "/").contains(where: { $0.hasPrefix(".") })
                || FileManager.default.fileExists(atPath: folder.directory + "/" + relative, isDirectory: &isDirectory) && isDirectory.boolValue {
                throw HTTPError(.notFound)
            }
        }
        return try await next(request, context)
    }
}

extension MastheadError {
    /// The answer to a storage fault: 507 for a full disk, 503 for a read-only or unreachable database.
    var httpStatus: HTTPResponse.Status {
        code == .diskFull ? .insufficientStorage : [.readOnly, .unavailable].contains(code) ? .serviceUnavailable : .internalServerError
    }
}
