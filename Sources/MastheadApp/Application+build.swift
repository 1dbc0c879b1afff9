import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Synchronization
import MastheadCore
import MastheadRendering
import MastheadStorage

/// The running parts of a site, built once from its configuration.
public struct Site: Sendable {
    public let configuration: AppConfiguration
    public let store: Store
    public let theme: Theme
    public let cache: PageCache
    public let logger: Logger
    public let imageSigner: ImageSigner
    public let imageCache: ImageVariantCache
    /// The site settings with the admins' changes applied, kept current by the content watcher.
    public let settings: LiveSiteSettings
    /// The newsroom's templates and assets.
    public let adminTemplates: Theme
    /// Page-view counts, gathered in memory and added to the store every few seconds.
    public let audience: AudienceRecorder
    /// The confidential tip line.
    public let tips: TipLine
    /// The keys instances share (see ``SiteKeys``).
    public let keys: SiteKeys

    /// Opens the store (migrating it) and loads the theme.
    public static func open(_ configuration: AppConfiguration, logger: Logger) async throws -> Site {
        if case .postgres = configuration.database, configuration.secret == nil {
            throw MastheadError(
                .configuration, "a site on PostgreSQL needs a secret its instances share: set MASTHEAD_SECRET to at least 32 random characters, the same on every instance (e.g. the output of: openssl rand -base64 32)",
                location: .init(field: "secret"))
        }
        let store = try await Store.open(configuration.database, logger: logger)
        let keys = SiteKeys(secret: configuration.secret)
        do {
            try await store.migrate()
            try await StagedMedia.recover(store: store, mediaDirectory: configuration.mediaDirectory)
            let theme = try await Theme(directory: InstalledFiles.locate(configuration.themeDirectory))
            let adminTemplates = try await Theme(directory: InstalledFiles.locate(configuration.adminDirectory), requiredTemplates: Newsroom.templateNames)
            for (name, loaded) in [("theme", theme), ("newsroom templates", adminTemplates)] {
                if let note = loaded.compileNote {
                    logger.notice("the \(name) use what the compiled templates leave out, so swift-mustache renders them (slower): \(note)")
                }
            }
            // The configured key; else the site's key file, so published image addresses stay
            // valid; else, for instances that share a secret, one derived from it; else a new file.
            let keyFolder = configuration.dataDirectory + "/keys"
            let signer = try configuration.imageSecret.map(ImageSigner.init(secret:))
                ?? ImageSigner.existing(in: keyFolder)
                ?? (keys.isConfigured ? ImageSigner(secret: keys.key("images").withUnsafeBytes { Data($0) }) : nil)
                ?? ImageSigner.loadOrCreate(in: keyFolder)
            let imageCache = ImageVariantCache(
                directory: configuration.imageCacheDirectory, capacityBytes: configuration.imageCacheBytes, logger: logger)
            let settings = LiveSiteSettings(configuration.site)
            settings.update(overrides: try await store.siteSettingOverrides())
            return Site(
                configuration: configuration, store: store, theme: theme, cache: PageCache(capacityBytes: configuration.pageCacheBytes, maxAge: .seconds(configuration.pageCacheSeconds)),
                logger: logger,
                imageSigner: signer, imageCache: imageCache, settings: settings, adminTemplates: adminTemplates,
                audience: AudienceRecorder(store: store, baseURL: configuration.site.baseURL) { settings.current.timeZone },
                tips: TipLine(store: store, limits: configuration.tipLimits, onionAddress: configuration.onionAddress, keys: keys),
                keys: keys)
        } catch {
            await store.close()
            throw error
        }
    }

    /// Reads and writes content the way the command line does.
    public var importer: ContentImporter {
        ContentImporter(
            store: store, site: configuration.site, mediaDirectory: configuration.mediaDirectory,
            markdown: MarkdownRenderer(trustsHTML: configuration.trustsHTML), imageLimits: configuration.imageLimits)
    }

    /// What imports from other systems share: this site's store, settings and media folder.
    var foreignImport: ForeignImport {
        ForeignImport(store: store, site: configuration.site, mediaDirectory: configuration.mediaDirectory, imageLimits: configuration.imageLimits)
    }

    /// Imports a WordPress export (`import-wordpress`).
    public var wordpressImporter: WordPressImporter {
        WordPressImporter(foreign: foreignImport)
    }

    /// Imports a Ghost export (`import-ghost`).
    public var ghostImporter: GhostImporter {
        GhostImporter(foreign: foreignImport)
    }

    /// Creates the About and Privacy pages the footer links to, where the site has none.
    public func ensureDefaultPages() async throws {
        try await DefaultPages.ensure(in: store, site: configuration.site, markdown: MarkdownRenderer(trustsHTML: configuration.trustsHTML))
    }

    /// Queues article events for the site's webhooks.
    public var webhooks: WebhookNotifier {
        WebhookNotifier(store: store, settings: settings, logger: logger)
    }

    var views: ViewBuilder {
        let signer = imageSigner
        var views = ViewBuilder(settings: settings, assetsVersion: theme.assetsVersion, images: ImageLinks { signer.url(path: $0, variant: $1) })
        views.consentPolicy = configuration.consentPolicy
        return views
    }
}

/// The router for `site`: public pages, health, assets and media, with error pages and access logs.
public func buildRouter(site: Site) -> Router<MastheadRequestContext> {
    let router = Router(context: MastheadRequestContext.self)
    let newsroom = Newsroom(site: site)
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: PathNormalizationMiddleware())
    router.add(middleware: ClientAddressMiddleware(trusted: site.configuration.trustedProxies))
    router.add(middleware: ConsentMiddleware(policy: site.configuration.consentPolicy))
    router.add(middleware: SecurityHeadersMiddleware(
        consent: site.configuration.consentPolicy, https: site.configuration.site.baseURL.hasPrefix("https://")))
    router.add(middleware: AudienceMiddleware(recorder: site.audience))
    router.add(middleware: APICORSMiddleware(origins: site.configuration.apiCORSOrigins))
    router.add(middleware: ReadOnlyAPIMiddleware())
    router.add(middleware: ErrorPageMiddleware(store: site.store, theme: site.theme, views: site.views))
    router.add(middleware: AdminAPIFallbackMiddleware())
    router.add(middleware: StaticFolderMiddleware(folders: [
        ("/admin/assets/", site.adminTemplates.assetsDirectory), ("/assets/", site.theme.assetsDirectory),
        ("/media/", site.configuration.mediaDirectory),
    ]))
    router.add(middleware: FileMiddleware(
        site.adminTemplates.assetsDirectory, urlBasePath: "/admin/assets",
        cacheControl: .init([(MediaType(type: .any), [.public, .maxAge(31_536_000), .immutable])]), logger: site.logger))
    router.add(middleware: NewsroomMiddleware(newsroom: newsroom))
    router.add(middleware: FileMiddleware(
        site.theme.assetsDirectory, urlBasePath: "/assets",
        cacheControl: .init([(MediaType(type: .any), [.public, .maxAge(31_536_000), .immutable])]), logger: site.logger))
    router.add(middleware: FileMiddleware(
        site.configuration.mediaDirectory, urlBasePath: "/media",
        cacheControl: .init([(MediaType(type: .any), [.public, .maxAge(86_400)])]), logger: site.logger))
    HealthController(store: site.store).addRoutes(to: router)
    FeedsController(
        store: site.store, settings: site.settings, signer: site.imageSigner, cache: site.cache,
        fullText: site.configuration.feedsFullText
    ).addRoutes(to: router)
    ContentAPIController(store: site.store, settings: site.settings, signer: site.imageSigner).addRoutes(to: router)
    SitemapsController(store: site.store, settings: site.settings, cache: site.cache, maxURLs: 50_000).addRoutes(to: router)
    ImagesController(
        mediaDirectory: site.configuration.mediaDirectory, signer: site.imageSigner, cache: site.imageCache,
        limits: site.configuration.imageLimits
    ).addRoutes(to: router)
    AdminController(newsroom: newsroom).addRoutes(to: router)
    AdminAPIController(newsroom: newsroom).addRoutes(to: router)
    PreviewController(site: site).addRoutes(to: router)
    TipsController(tips: site.tips, store: site.store, theme: site.theme, views: site.views).addRoutes(to: router)
    ConsentController(
        store: site.store, theme: site.theme, views: site.views, policy: site.configuration.consentPolicy,
        secureCookies: site.configuration.site.baseURL.hasPrefix("https://"), siteHost: URL(string: site.configuration.site.baseURL)?.host
    ).addRoutes(to: router)
    PublicSiteController(store: site.store, theme: site.theme, views: site.views, cache: site.cache).addRoutes(to: router)
    return router
}

/// The whole server for `site`: HTTP, the content watcher and an orderly shutdown.
public func buildApplication(site: Site, watchInterval: Duration = .milliseconds(250)) -> some ApplicationProtocol {
    let configuration = site.configuration
    return Application(
        router: buildRouter(site: site),
        server: .http1(configuration: httpLimits),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Masthead"),
        // Services stop in reverse order: the store closes last, after the final audience counts are in.
        services: [
            StoreCloser(store: site.store),
            AudienceFlusher(recorder: site.audience, interval: .seconds(5), logger: site.logger),
            TipRetention(store: site.store, days: configuration.tipLimits.retentionDays, logger: site.logger),
            ContentWatcher(store: site.store, cache: site.cache, settings: site.settings, interval: watchInterval, logger: site.logger),
            EditorialScheduler(store: site.store, interval: .seconds(1), logger: site.logger) {
                await site.webhooks.announceRecordedEvents()
            },
            WebhookDispatcher(store: site.store, logger: site.logger, allowPrivateAddresses: configuration.webhooksAllowPrivateAddresses),
        ],
        logger: site.logger)
}

/// Connections idle for 30 s are closed (a client that opens many and sends nothing ties up
/// nothing for long); no header line over 16 KB, no more than 64 KB and 200 header fields in all.
let httpLimits = HTTP1Channel.Configuration(
    idleTimeout: .seconds(30),
    httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 64 * 1024, maxHeaderFieldCount: 200))

/// `/healthz` is about the process: 200 while it serves requests at all (for a supervisor
/// deciding whether to restart it). `/readyz` is about serving readers: 200 with the schema and
/// content versions when the database answers within two seconds, 503 when not (for a load
/// balancer deciding whether to send readers here).
struct HealthController: Sendable {
    let store: Store
    /// The database check under way, shared by probes that come while it runs: a stuck database
    /// gets one check at a time, not one more per probe.
    private let check = ReadinessCheck()

    init(store: Store) {
        self.store = store
    }

    func addRoutes(to router: Router<some RequestContext>) {
        let headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        router.get("/healthz") { _, _ -> Response in
            Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: #"{"status":"ok"}"#)))
        }
        router.get("/readyz") { _, _ -> Response in
            let running = check.task { try? await store.contentVersion() }
            let version = await Self.answer(within: .seconds(2)) { await running.value }
            guard let version else {
                return Response(status: .serviceUnavailable, headers: headers, body: .init(byteBuffer: .init(string: #"{"status":"unavailable"}"#)))
            }
            let body = #"{"status":"ready","schema":\#(Store.schemaVersion),"content_version":\#(version)}"#
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: body)))
        }
    }

    /// What `work` returns, or nil when it has not returned within `limit` (it is left to finish alone).
    static func answer<T: Sendable>(within limit: Duration, _ work: @escaping @Sendable () async -> T?) async -> T? {
        await withCheckedContinuation { continuation in
            let answer = FirstAnswer(continuation)
            Task { answer.give(await work()) }
            Task {
                try? await Task.sleep(for: limit)
                answer.give(nil)
            }
        }
    }
}

/// One database check at a time: a probe that comes while one runs waits for that one.
private final class ReadinessCheck: Sendable {
    private let current = Mutex<Task<Int64?, Never>?>(nil)

    func task(_ work: @escaping @Sendable () async -> Int64?) -> Task<Int64?, Never> {
        current.withLock { current in
            if let running = current { return running }
            let task = Task { [weak self] in
                let value = await work()
                self?.current.withLock { $0 = nil }
                return value
            }
            current = task
            return task
        }
    }
}

/// Resumes a continuation with the first value given; later ones are dropped.
private final class FirstAnswer<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T?, Never>?>

    init(_ continuation: CheckedContinuation<T?, Never>) {
        self.continuation = Mutex(continuation)
    }

    func give(_ value: T?) {
        continuation.withLock { waiting in
            waiting?.resume(returning: value)
            waiting = nil
        }
    }
}
