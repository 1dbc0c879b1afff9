import Foundation
import Logging
import MastheadCore
import MastheadStorage
import ServiceLifecycle

/// Watches the store's content version and empties the page cache when it changes — also when
/// another process (an import from the command line) changed it — and when an article dated in
/// the future comes due.
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
                settings.update(overrides: try await store.siteSettingOverrides())
                cache.purge()
                version = current
                nextPublication = try await store.nextPublicationTime()
                logger.debug("content changed; page cache emptied", metadata: ["masthead.content.version": "\(current)"])
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
