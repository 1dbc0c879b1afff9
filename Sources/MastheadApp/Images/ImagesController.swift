import Foundation
import Hummingbird
import MastheadImaging

/// `/img/<signature>/<variant>/<media path>`: a variant of a stored image, in the best format
/// the browser accepts (AVIF, else WebP, else JPEG or PNG), made once and then served from cache.
struct ImagesController: Sendable {
    let mediaDirectory: String
    let signer: ImageSigner
    let cache: ImageVariantCache
    let limits: ImageLimits

    func addRoutes(to router: Router<some RequestContext>) {
        for method in [HTTPRequest.Method.get, .head] {
            router.on("/img/:signature/:variant/**", method: method) { request, context in
                try await variant(
                    request, signature: try context.parameters.require("signature"), variantText: try context.parameters.require("variant"),
                    path: context.parameters.getCatchAll().joined(separator: "/"))
            }
        }
    }

    private func variant(_ request: Request, signature: String, variantText: String, path: String) async throws -> Response {
        // The hot path: the same address asked with the same Accept header moments ago.
        let accept = request.headers[.accept]
        let requestKey = request.uri.path + "\n" + (accept ?? "")
        if let (format, key) = cache.recentlyResolved(requestKey), let data = cache.inMemory(key) {
            return Self.response(request, data: data, format: format, key: key)
        }
        guard let variant = ImageVariant(parsing: variantText), let relative = Self.safeRelativePath(path) else {
            throw HTTPError(.notFound)
        }
        guard signer.allows(signature: signature, variant: variant, path: relative) else {
            throw HTTPError(.forbidden, message: "This image address is not signed for this size.")
        }
        let sourcePath = mediaDirectory + "/" + relative
        let source: SourceImage
        let format: ImageFormat
        let key: String
        do {
            (source, format, key) = try await cache.source(
                at: sourcePath, variant: variant, format: { Self.negotiate(accept: accept, source: $0) }, limits: limits)
        } catch let rejection as ImageRejection {
            throw Self.httpError(rejection)
        }
        let data: ByteBuffer
        do {
            data = try await cache.data(for: key) { try ImageRenderer.render(source, variant: variant, format: format) }
        } catch let rejection as ImageRejection {
            throw Self.httpError(rejection)
        }
        cache.rememberResolved(requestKey, format: format, key: key)
        return Self.response(request, data: data, format: format, key: key)
    }

    private static func response(_ request: Request, data: ByteBuffer, format: ImageFormat, key: String) -> Response {
        let etag = "\"\(key.prefix(32))\""
        var headers: HTTPFields = [
            .contentType: format.mediaType,
            .cacheControl: "public, max-age=31536000, immutable",
            .vary: "Accept",
            .eTag: etag,
        ]
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(data.readableBytes)
        if request.method == .head { return Response(status: .ok, headers: headers) }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: data))
    }

    /// The format for a browser that sent `accept`: AVIF, then WebP, then JPEG (PNG with alpha).
    static func negotiate(accept: String?, source: SourceImage) -> ImageFormat {
        let accepted = Set((accept ?? "").split(separator: ",").compactMap { part -> String? in
            let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let type = fields.first, !fields.dropFirst().contains(where: { $0 == "q=0" || $0 == "q=0.0" }) else { return nil }
            return type
        })
        if accepted.contains("image/avif") && ImageRenderer.canWriteAVIF { return .avif }
        if accepted.contains("image/webp") { return .webp }
        // A client that takes PNG and no JPEG at all gets PNG (`export-static` asks so for `.png` files).
        let takesJPEG = accepted.contains("image/jpeg") || accepted.contains("image/*") || accepted.contains("*/*")
        return source.hasAlpha || (accepted.contains("image/png") && !takesJPEG) ? .png : .jpeg
    }

    /// `path` if it stays inside the media folder: no `..`, no hidden or empty parts.
    static func safeRelativePath(_ path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && !$0.contains("\\") && !$0.contains("\0") }) else { return nil }
        return parts.joined(separator: "/")
    }

    static func httpError(_ rejection: ImageRejection) -> HTTPError {
        switch rejection.reason {
        case .missing: HTTPError(.notFound)
        case .tooLarge: HTTPError(.contentTooLarge, message: rejection.message)
        case .unsupportedType, .wrongExtension: HTTPError(.unsupportedMediaType, message: rejection.message)
        case .damaged: HTTPError(.unprocessableContent, message: rejection.message)
        }
    }
}
