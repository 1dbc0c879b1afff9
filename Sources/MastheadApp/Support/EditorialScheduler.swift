import Foundation
import Logging
import MastheadCore
import MastheadStorage
import ServiceLifecycle

/// Publishes scheduled articles when their time comes: checks every `interval`, and at start
/// catches up on any time that passed while the server was down. Several instances may run it
/// at once; each article is published by exactly one of them. The content watcher then empties
/// the page caches, so the story is on the site within about a second of its time.
struct EditorialScheduler: Service {
    let store: Store
    let interval: Duration
    let logger: Logger
    /// Called after every check: announces the publications recorded with them (webhooks), and
    /// any a crash left unannounced.
    var announce: @Sendable () async -> Void = {}

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let published = try await store.publishDueArticles()
                for article in published {
                    logger.info("published a scheduled article", metadata: [
                        "masthead.article": "\(article.path)", "masthead.scheduled_for": "\(article.publishedAt)",
                    ])
                }
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                logger.warning("cannot publish scheduled articles", metadata: ["masthead.error": "\(error)"])
            }
            await announce()
            try? await Task.sleep(for: interval)
        }
    }
}
