import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import MastheadCore
import MastheadStorage
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Announces article events to the site's webhooks: builds the JSON a CDN or newsletter tool
/// needs (the article, and every address whose cached copy is now stale) and queues it in the
/// store's outbox. A failure here never undoes the change; it is logged.
public struct WebhookNotifier: Sendable {
    let store: Store
    let settings: LiveSiteSettings
    let logger: Logger

    /// Announces the events recorded with the changes that caused them (saves, workflow steps,
    /// corrections, scheduled publications, imports),
    /// each once, also those a crash left unannounced.
    public func announceRecordedEvents() async {
        do {
            for pending in try await store.pendingArticleEvents() {
                let article = try await store.articleSummary(id: pending.articleID).asyncMap { try await store.article(slug: $0.slug) }
                try await store.announceArticleEvent(
                    id: pending.id, pending.event, payload: article.map { Self.payload(pending.event, article: $0, site: settings.current) })
            }
        } catch {
            logger.warning("cannot queue webhooks", metadata: ["masthead.error": "\(error)"])
        }
    }

    public func announce(_ event: ArticleEvent, article: Article) async {
        do {
            try await store.enqueueWebhooks(event, payload: Self.payload(event, article: article, site: settings.current))
        } catch {
            logger.warning("cannot queue a webhook", metadata: ["masthead.event": "\(event.rawValue)", "masthead.error": "\(error)"])
        }
    }

    static func payload(_ event: ArticleEvent, article: Article, site: SiteSettings, now: Date = .now) -> String {
        let iso = ISO8601DateFormatter()
        var purge = [article.path, "/", article.section.path, "/feed/", article.section.path + "feed/", "/sitemap.xml"]
        purge += article.tags.flatMap { [$0.path, $0.path + "feed/"] } + article.authors.flatMap { [$0.path, $0.path + "feed/"] }
        let object: [String: Any] = [
            "event": event.rawValue,
            "created_at": iso.string(from: now),
            "site": ["title": site.title, "url": site.absoluteURL("/")],
            "article": [
                "id": article.id, "slug": article.slug, "title": article.title, "summary": article.summary,
                "url": site.absoluteURL(article.path), "status": event == .deleted ? "deleted" : article.status.rawValue,
                "section": ["slug": article.section.slug, "name": article.section.name, "url": site.absoluteURL(article.section.path)],
                "tags": article.tags.map { ["slug": $0.slug, "name": $0.name] },
                "authors": article.authors.map { ["slug": $0.slug, "name": $0.name] },
                "published_at": iso.string(from: article.publishedAt),
                "updated_at": article.updatedAt.map { iso.string(from: $0) } ?? NSNull(),
                "modified_at": iso.string(from: article.modifiedAt),
            ] as [String: Any],
            "purge_urls": Array(NSOrderedSet(array: purge.map(site.absoluteURL))) as Any,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Sends queued webhook deliveries: a POST of the JSON payload, signed with HMAC-SHA256 under
/// the hook's secret (`Masthead-Signature: t=<unix time>,v1=<hex of HMAC(secret, "<t>.<body>")>`),
/// no redirects followed, 10 seconds at most. Anything but a 2xx is retried with growing pauses;
/// after the last, the delivery is marked failed in the admin's log (and can be retried there).
///
/// The hook's host is resolved here and every address it gives is checked before connecting:
/// loopback, private, link-local (cloud metadata services), unique-local and other non-public
/// addresses are refused unless `webhooks_allow_private` allows them, and the connection goes to
/// the very address that was checked (no second lookup an attacker's DNS could answer differently).
public struct WebhookDispatcher: Service {
    let store: Store
    let logger: Logger
    var interval: Duration = .seconds(1)
    /// Pauses before each retry, in seconds: 7 attempts over about 8½ hours.
    var backoff: [TimeInterval] = [10, 60, 300, 1800, 7200, 21600]
    var timeout: TimeAmount = .seconds(10)
    var connectTimeout: TimeAmount = .seconds(5)
    /// Whether hooks may point at non-public addresses.
    let allowPrivateAddresses: Bool

    public init(
        store: Store, logger: Logger, backoff: [TimeInterval] = [10, 60, 300, 1800, 7200, 21600], allowPrivateAddresses: Bool = false,
        connectTimeout: TimeAmount = .seconds(5)
    ) {
        self.store = store
        self.logger = logger
        self.backoff = backoff
        self.allowPrivateAddresses = allowPrivateAddresses
        self.connectTimeout = connectTimeout
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                for delivery in try await store.dueDeliveries() {
                    guard try await store.claimDelivery(id: delivery.id, until: .now.addingTimeInterval(60)) else { continue }
                    await send(delivery)
                }
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                logger.warning("cannot read webhook deliveries", metadata: ["masthead.error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Why a hook's address may not be used, or nil with the address to connect to.
    func vet(_ url: String) async -> Result<NetworkAddress, WebhookRefusal> {
        guard let host = URL(string: url)?.host, !host.isEmpty else { return .failure(.init(message: "the address has no host")) }
        let addresses = (try? await BlockingWork.run { NetworkAddress.resolve(host) }) ?? []
        guard let first = addresses.first else { return .failure(.init(message: "\(host) cannot be resolved")) }
        if !allowPrivateAddresses, let inner = addresses.first(where: { !$0.isPublic }) {
            return .failure(.init(message: "refused: \(host) resolves to \(inner), which is not a public internet address (see webhooks_allow_private)"))
        }
        return .success(first)
    }

    public func send(_ delivery: WebhookDelivery) async {
        var status: Int?
        var failure: String?
        switch await vet(delivery.url) {
        case .failure(let refusal):
            failure = refusal.message
        case .success(let address):
            let host = URL(string: delivery.url)?.host ?? ""
            var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: connectTimeout, read: timeout))
            // Connect to the checked address; the hook's name still goes in Host and TLS.
            configuration.dnsOverride = [host: address.description]
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            do {
                let response = try await client.execute(request(for: delivery), timeout: timeout)
                status = Int(response.status.code)
                _ = try? await response.body.collect(upTo: 64 * 1024)
                if !(200..<300).contains(Int(response.status.code)) { failure = "answered \(response.status.code) \(response.status.reasonPhrase)" }
            } catch {
                failure = "\(error)"
            }
            try? await client.shutdown()
        }
        let delivered = failure == nil
        let retryAt = delivered || delivery.attempts >= backoff.count ? nil : Date.now.addingTimeInterval(backoff[delivery.attempts])
        do {
            try await store.recordAttempt(deliveryID: delivery.id, status: status, error: failure, delivered: delivered, retryAt: retryAt)
        } catch {
            logger.warning("cannot record a webhook attempt", metadata: ["masthead.error": "\(error)"])
        }
        if !delivered {
            logger.notice("webhook delivery failed", metadata: [
                "masthead.webhook": "\(delivery.webhookID)", "masthead.delivery": "\(delivery.id)", "masthead.error": "\(failure ?? "")",
                "masthead.retry_at": "\(retryAt.map { "\($0)" } ?? "none: given up")",
            ])
        }
    }

    private func request(for delivery: WebhookDelivery) -> HTTPClientRequest {
        let timestamp = String(Int(Date.now.timeIntervalSince1970))
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Masthead-Webhooks/1")
        request.headers.add(name: "Masthead-Event", value: delivery.event)
        request.headers.add(name: "Masthead-Delivery", value: String(delivery.id))
        request.headers.add(name: "Masthead-Signature", value: "t=\(timestamp),v1=\(Self.signature(delivery.payload, timestamp: timestamp, secret: delivery.secret))")
        request.body = .bytes(ByteBuffer(string: delivery.payload))
        return request
    }

    /// Hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
    static func signature(_ body: String, timestamp: String, secret: String) -> String {
        Array(HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))).hexEncoded
    }
}

/// Why a webhook's address was not used.
struct WebhookRefusal: Error {
    var message: String
}
