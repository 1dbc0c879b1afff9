import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MastheadCore
import MastheadStorage
import ServiceLifecycle
import Synchronization

/// Page views counted without tracking: per page, referring domain and day, nothing stored on
/// the reader's device and no personal data kept. A visitor is told apart from another only by a
/// hash of their address and browser under a salt that exists in memory for one day and is then
/// thrown away, so no visitor can be recognised across days, and the hashes themselves are never
/// written anywhere. Counts are added to the store every few seconds.
///
/// Memory is bounded whatever scripted requests do: visitors are remembered as 8-byte hashes, at
/// most ``maxRemembered`` a day (past that, each further view counts its visitor as new: the
/// visitor figures become an upper bound, and the dashboard's views stay exact), and at most
/// ``maxReferrers`` referring domains a day are told apart (the rest count as `other`).
public final class AudienceRecorder: Sendable {
    private struct State {
        var day = ""
        var salt = SymmetricKey(size: .bits256)
        var seenOnSite = Set<UInt64>()
        var seenOnPage: [String: Set<UInt64>] = [:]
        var remembered = 0
        var referrers = Set<String>()
        var pending = AudienceCounts()
    }

    /// Visitor hashes kept a day, across the site and all pages (about 16 MB at most).
    static let maxRemembered = 1_000_000
    /// Referring domains told apart a day.
    static let maxReferrers = 1_000

    private let state = Mutex(State())
    private let currentDay = Mutex<(day: String, range: Range<Date>, zone: TimeZone)?>(nil)
    let store: Store
    let timeZone: @Sendable () -> TimeZone
    let ownHosts: Set<String>

    init(store: Store, baseURL: String, timeZone: @escaping @Sendable () -> TimeZone) {
        self.store = store
        self.timeZone = timeZone
        ownHosts = Set([URL(string: baseURL)?.host].compactMap { $0 })
    }

    /// The day (`YYYY-MM-DD`) a moment falls on in the site's time zone; worked out once a day,
    /// not for every view.
    public func day(of date: Date) -> String {
        let zone = timeZone()
        if let known = currentDay.withLock({ $0 }), known.zone == zone, known.range.contains(date) { return known.day }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let day = date.day(in: zone)
        if let range = calendar.dateInterval(of: .day, for: date) {
            currentDay.withLock { $0 = (day, range.start..<range.end, zone) }
        }
        return day
    }

    /// Counts one view of `path`.
    func record(path: String, referrer: String?, client: String, userAgent: String, host: String?, now: Date = .now) {
        let day = day(of: now)
        let domain = Self.referringDomain(referrer, ownHosts: ownHosts, host: host)
        // The day's salt (a new one, with yesterday's forgotten, when the day changed); the hash is
        // made outside the lock, so views on other threads do not wait for it.
        let salt = state.withLock { state in
            if state.day != day {
                state.day = day
                state.salt = SymmetricKey(size: .bits256)
                state.seenOnSite = []
                state.seenOnPage = [:]
                state.remembered = 0
                state.referrers = []
            }
            return state.salt
        }
        var identity = client
        identity += "\n"
        identity += userAgent
        let mac = HMAC<SHA256>.authenticationCode(for: Array(identity.utf8), using: salt)
        let visitor = mac.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        state.withLock { state in
            // A view from just before midnight, counted after the day (and salt) changed, is dropped.
            guard state.day == day else { return }
            let newOnSite: Bool
            let newOnPage: Bool
            if state.remembered < Self.maxRemembered {
                newOnSite = state.seenOnSite.insert(visitor).inserted
                newOnPage = state.seenOnPage[path, default: []].insert(visitor).inserted
                state.remembered += (newOnSite ? 1 : 0) + (newOnPage ? 1 : 0)
            } else {
                newOnSite = !state.seenOnSite.contains(visitor)
                newOnPage = !(state.seenOnPage[path]?.contains(visitor) ?? false)
            }
            var page = state.pending.pages[day, default: [:]][path] ?? (0, 0)
            page.views += 1
            page.visitors += newOnPage ? 1 : 0
            state.pending.pages[day, default: [:]][path] = page
            var site = state.pending.site[day] ?? (0, 0)
            site.views += 1
            site.visitors += newOnSite ? 1 : 0
            state.pending.site[day] = site
            let counted = state.referrers.contains(domain) || state.referrers.count < Self.maxReferrers
            if counted { state.referrers.insert(domain) }
            state.pending.referrers[day, default: [:]][counted ? domain : "other", default: 0] += 1
        }
    }

    /// Adds the counts gathered so far to the store.
    public func flush() async throws {
        let counts = state.withLock { state in
            defer { state.pending = AudienceCounts() }
            return state.pending
        }
        do {
            try await store.addAudienceCounts(counts)
        } catch {
            // Put them back, to be added with the next flush.
            state.withLock { $0.pending.add(counts) }
            throw error
        }
    }

    /// The referring site's domain (`news.example.com`), `direct` without one, `internal` for this site.
    static func referringDomain(_ referrer: String?, ownHosts: Set<String>, host requestHost: String? = nil) -> String {
        guard let referrer, let host = URLComponents(string: referrer)?.host?.lowercased(), !host.isEmpty else { return "direct" }
        if ownHosts.contains(host) || host == requestHost?.lowercased() { return "internal" }
        return host.hasPrefix("www.") ? String(host.dropFirst(4)) : host
    }

    /// Whether a request is a person reading a page: not a robot that says so, not a prefetch.
    static func isReader(userAgent: String, purpose: String?) -> Bool {
        if let purpose, purpose.contains("prefetch") { return false }
        let agent = userAgent.lowercased()
        return !["bot", "crawler", "spider", "slurp", "facebookexternalhit"].contains { agent.contains($0) }
    }
}

/// Counts successful GETs of public pages (cache hits and 304s too), after they are answered.
struct AudienceMiddleware: RouterMiddleware {
    typealias Context = MastheadRequestContext
    let recorder: AudienceRecorder

    static let uncounted = ["/admin", "/api/", "/assets/", "/media/", "/img/", "/preview/", "/consent", "/healthz", "/readyz", "/sitemap", "/sitemaps/", "/robots.txt", "/tips"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        let path = request.uri.path
        guard request.method == .get, response.status == .ok || response.status == .notModified,
              response.status == .notModified || response.headers[.contentType]?.hasPrefix("text/html") == true,
              !Self.uncounted.contains(where: { path.hasPrefix($0) }), !path.contains("/feed/")
        else { return response }
        let agent = request.headers[.userAgent] ?? ""
        guard AudienceRecorder.isReader(userAgent: agent, purpose: request.headers[HTTPField.Name("Sec-Purpose")!] ?? request.headers[HTTPField.Name("Purpose")!]) else {
            return response
        }
        recorder.record(
            path: path, referrer: request.headers[.referer], client: context.clientName, userAgent: agent,
            host: request.head.authority.map { String($0.split(separator: ":").first ?? "") })
        return response
    }
}

/// Adds the gathered counts to the store every few seconds, and once more at shutdown.
struct AudienceFlusher: Service {
    let recorder: AudienceRecorder
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            do { try await recorder.flush() } catch { logger.warning("cannot store audience counts", metadata: ["masthead.error": "\(error)"]) }
        }
        try? await recorder.flush()
    }
}
