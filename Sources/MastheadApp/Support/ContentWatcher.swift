import Foundation
import Logging
import MastheadCore
import MastheadStorage
import ServiceLifecycle

/// Watches the store's record of content changes — also those of other processes (an import from
/// the command line) and instances — and makes the page cache forget the pages each change made
/// stale; all pages when a change may touch any of them, or when an article dated in the future
/// comes due.
struct ContentWatcher: Service {
    let store: Store
    let cache: PageCache
    /// Reloaded with the content, so an admin's change of title or tip prompt shows everywhere.
    let settings: LiveSiteSettings
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var version = try await store.contentVersion()
        var nextPublication = try await store.nextPublicationTime()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: interval)
            do {
                let current = try await store.contentVersion()
                let due = nextPublication.map { $0 <= .now } ?? false
                guard current != version || due else { continue }
                let changes = try await store.contentChanges(after: version)
                if let keys = changes.keys, !due {
                    cache.invalidate { path in keys.contains { StalePages.matches($0, path: path) } }
                } else {
                    settings.update(overrides: try await store.siteSettingOverrides())
                    cache.purge()
                }
                version = max(current, changes.version)
                nextPublication = try await store.nextPublicationTime()
                logger.debug("content changed", metadata: [
                    "masthead.content.version": "\(version)", "masthead.cache.pages_stale": "\(changes.keys.map { "\($0.count)" } ?? "all")",
                ])
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                logger.warning("cannot read the content version", metadata: ["masthead.error": "\(error)"])
            }
        }
    }
}

/// Closes the store when the server shuts down, after the server has stopped taking requests.
struct StoreCloser: Service {
    let store: Store

    func run() async throws {
        try? await gracefulShutdown()
        await store.close()
    }
}
