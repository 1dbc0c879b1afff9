import Foundation
import Hummingbird
import HummingbirdTesting
import MastheadApp
import MastheadImaging
import MastheadTesting
import NIOCore
import Testing

@Suite struct ImageRouteTests {
    /// A site with one 1600×900 photo stored at `media/story/photo.jpg`.
    func withPhoto(cacheBytes: Int = 1 << 30, _ body: (TestSite, String) async throws -> Void) async throws {
        try await withTestSite(configuring: { $0.imageCacheBytes = cacheBytes }) { test in
            let media = test.site.configuration.mediaDirectory + "/story"
            try FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: true)
            let photo = try test.writeJPEG("photo.jpg", width: 1600, height: 900)
            try FileManager.default.copyItem(atPath: photo, toPath: media + "/photo.jpg")
            try await body(test, "story/photo.jpg")
        }
    }

    func get(_ client: some TestClientProtocol, _ uri: String, accept: String? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if let accept { headers[.accept] = accept }
        return try await client.execute(uri: uri, method: .get, headers: headers)
    }

    @Test func formatFollowsTheAcceptHeader() async throws {
        try await withPhoto { test, path in
            try await buildApplication(site: test.site).test(.router) { client in
                let cases: [(String?, ImageFormat)] = [
                    ("image/avif,image/webp,image/*,*/*;q=0.8", ImageRenderer.canWriteAVIF ? .avif : .webp),
                    ("image/webp,*/*", .webp),
                    ("image/png,image/*;q=0.8", .jpeg),
                    ("image/png", .png),
                    (nil, .jpeg),
                ]
                for (accept, format) in cases {
                    let response = try await get(client, "/img/-/w800/\(path)", accept: accept)
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == format.mediaType, "\(accept ?? "no Accept")")
                    #expect(ImageFormat.sniff(Array(response.body.readableBytesView.prefix(16))) == format)
                    #expect(response.headers[.vary] == "Accept")
                    #expect(response.headers[.cacheControl] == "public, max-age=31536000, immutable")
                    let data = Data(response.body.readableBytesView)
                    #expect(ImageRenderer.header(of: data)?.width == 800)
                    #expect(!ImageRenderer.hasMetadata(data))
                }
            }
        }
    }

    @Test func sizesOutsideThePresetsMustBeSigned() async throws {
        try await withPhoto { test, path in
            let signer = test.site.imageSigner
            try await buildApplication(site: test.site).test(.router) { client in
                #expect(try await get(client, "/img/-/w700/\(path)").status == .forbidden)
                #expect(try await get(client, "/img/-/w800-h450-cover-gsmart/\(path)").status == .forbidden)
                #expect(try await get(client, "/img/AAAAAAAAAAAAAAAAAAAAAA/w700/\(path)").status == .forbidden)
                let signed = signer.url(path: path, variant: ImageVariant(width: 700, height: 700, fit: .cover, gravity: .smart))
                #expect(!signed.contains("/-/"))
                let response = try await get(client, signed, accept: "image/webp")
                #expect(response.status == .ok)
                let header = ImageRenderer.header(of: Data(response.body.readableBytesView))
                #expect(header?.width == 700 && header?.height == 700)
                // A signature is for one variant of one file only.
                let other = signed.replacingOccurrences(of: "w700-h700", with: "w701-h700")
                #expect(try await get(client, other).status == .forbidden)
            }
        }
    }

    @Test func missingSourcesAndEscapesAreNotFound() async throws {
        try await withPhoto { test, _ in
            try await buildApplication(site: test.site).test(.router) { client in
                let missing = try await get(client, "/img/-/w800/story/none.jpg")
                #expect(missing.status == .notFound)
                let escape = try await get(client, "/img/-/w800/../masthead.sqlite")
                #expect((400..<500).contains(escape.status.code), "\(escape.status)")
                #expect(try await get(client, "/img/-/w800/story/%2e%2e/%2e%2e/masthead.sqlite").status != .ok)
                #expect(try await get(client, "/img/-/huge/story/photo.jpg").status == .notFound)
            }
        }
    }

    @Test func badSourcesGetClearClientErrors() async throws {
        try await withPhoto { test, _ in
            let media = test.site.configuration.mediaDirectory + "/bad"
            try FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: true)
            try #"<svg xmlns="http://www.w3.org/2000/svg"/>"#.write(toFile: media + "/logo.jpg", atomically: true, encoding: .utf8)
            try PNGWriter.bomb(width: 50_000, height: 50_000).write(to: URL(fileURLWithPath: media + "/bomb.png"))
            try await buildApplication(site: test.site).test(.router) { client in
                let svg = try await get(client, "/img/-/w800/bad/logo.jpg")
                #expect(svg.status == .unsupportedMediaType)
                #expect(try await get(client, "/img/-/w800/bad/bomb.png").status == .contentTooLarge)
            }
        }
    }

    @Test func concurrentRequestsForOneVariantConvertOnce() async throws {
        try await withPhoto { test, path in
            try await buildApplication(site: test.site).test(.router) { client in
                let bodies = try await withThrowingTaskGroup(of: Data.self) { group in
                    for _ in 0..<8 {
                        group.addTask { Data(try await get(client, "/img/-/w640/\(path)", accept: "image/webp").body.readableBytesView) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(Set(bodies).count == 1)
                #expect(test.site.imageCache.renderCount == 1)
                let again = try await get(client, "/img/-/w640/\(path)", accept: "image/webp")
                let etag = try #require(again.headers[.eTag])
                #expect(test.site.imageCache.renderCount == 1, "served from the cache")
                let revalidated = try await get(client, "/img/-/w640/\(path)", accept: "image/webp", headers: [.ifNoneMatch: etag])
                #expect(revalidated.status == .notModified)
            }
        }
    }

    @Test func theDiskCacheStaysUnderItsLimitDroppingTheLeastRecentlyUsed() async throws {
        try await withPhoto(cacheBytes: 1) { test, path in
            try await buildApplication(site: test.site).test(.router) { client in
                for width in [320, 480, 640] {
                    let response = try await get(client, "/img/-/w\(width)/\(path)")
                    #expect(response.status == .ok)
                }
                #expect(test.site.imageCache.diskCount == 1, "only the newest variant is kept under a 1-byte limit")
                let files = FileManager.default.subpaths(atPath: test.site.configuration.imageCacheDirectory)?.filter { $0.count > 60 } ?? []
                #expect(files.count == 1)
            }
        }
    }
}
