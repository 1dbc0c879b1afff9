import Crypto
import Foundation
import Synchronization

/// Counts what each client does in a sliding hour and refuses past a limit — in memory only, and
/// under a keyed hash whose key is replaced every day, so no address is ever kept as such.
/// Bounded: clients quiet for an hour are forgotten when the table grows, and past a hard cap it
/// starts again empty rather than grow without end.
final class ClientRateLimit: Sendable {
    private struct State {
        var day = -1
        var key = SymmetricKey(size: .bits256)
        var counts: [Data: [Date]] = [:]
    }

    /// Actions one client may take per hour.
    let perHour: Int
    private let state = Mutex(State())
    static let maxClients = 200_000

    init(perHour: Int) {
        self.perHour = perHour
    }

    /// Counts one action of `client`; false (nothing counted) when it is over the hourly limit.
    func allow(_ client: String, now: Date = .now) -> Bool {
        state.withLock { state in
            let day = Int(now.timeIntervalSince1970 / 86_400)
            if day != state.day { state = State(day: day, key: SymmetricKey(size: .bits256), counts: [:]) }
            let name = Data(HMAC<SHA256>.authenticationCode(for: Data(client.utf8), using: state.key).prefix(16))
            var times = (state.counts[name] ?? []).filter { now.timeIntervalSince($0) < 3600 }
            guard times.count < perHour else { return false }
            times.append(now)
            if state.counts.count >= Self.maxClients {
                state.counts = state.counts.filter { $0.value.contains { now.timeIntervalSince($0) < 3600 } }
                if state.counts.count >= Self.maxClients { state.counts.removeAll(keepingCapacity: true) }
            }
            state.counts[name] = times
            return true
        }
    }
}
