import Crypto
import Foundation
import Hummingbird
import HummingbirdBcrypt
import Logging
import MastheadCore
import MastheadStorage
import NIOPosix
import Synchronization

/// How sign-in is guarded: session length and the brute-force limits.
public struct SignInPolicy: Sendable {
    /// A session ends after this long without use.
    public var sessionLifetime: TimeInterval = 12 * 3600
    /// A session ends this long after sign-in, however much it is used.
    public var sessionMaxAge: TimeInterval = 7 * 86_400
    /// Failed sign-ins counted together within this window.
    public var failureWindow: TimeInterval = 15 * 60
    /// Failures on one account that lock it.
    public var accountLimit: Int = 10
    /// Failures from one client that lock it out of every account.
    public var clientLimit: Int = 50
    /// How long a lock lasts.
    public var lockout: TimeInterval = 15 * 60
    /// bcrypt's work factor (2^cost rounds).
    public var bcryptCost: UInt8 = 12

    public init() {}

    /// The pause before answering the n-th failure in a row: none for the first three, then
    /// doubling from a quarter second up to two seconds, so guessing gets slow long before the lock.
    func delay(afterFailures failures: Int) -> Duration {
        guard failures >= 3 else { return .zero }
        let milliseconds = min(250 << min(failures - 3, 4), 2000)
        return .milliseconds(milliseconds)
    }
}

/// Why a sign-in was refused.
enum SignInRefusal: Error, Equatable {
    /// Wrong address or password (the answer does not say which).
    case wrongCredentials
    case accountLocked(until: Date)
    case clientLocked(until: Date)
}

/// Passwords, sign-in throttling and sessions for the newsroom.
public struct Accounts: Sendable {
    let store: Store
    let policy: SignInPolicy
    let clients: ClientThrottle
    let signInLocks = KeyedLock()
    let logger: Logger

    public init(store: Store, policy: SignInPolicy, keys: SiteKeys, logger: Logger) {
        self.store = store
        self.policy = policy
        self.clients = ClientThrottle(store: store, keys: keys)
        self.logger = logger
    }

    /// A bcrypt hash of `password`, computed off the event loops (it takes a quarter second by design).
    public func hash(password: String) async throws -> String {
        let cost = policy.bcryptCost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches the bcrypt `hash`.
    func matches(_ password: String, hash: String) async throws -> Bool {
        try await verify(password, hash: hash)
    }

    private func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// Checks an email and password, counting failures per account and per client, and starts a
    /// session. Locked accounts and clients are refused before the password is even checked.
    func signIn(email: String, password: String, client: String, now: Date = .now) async throws -> (user: User, token: String) {
        let email = User.normalizedEmail(email)
        // One attempt per address at a time: parallel guesses wait their turn, and each sees the
        // failures counted before it (so a burst cannot slip past the lock).
        return try await signInLocks.withLock(email) {
            try await attempt(email: email, password: password, client: client, now: now)
        }
    }

    private func attempt(email: String, password: String, client: String, now: Date) async throws -> (user: User, token: String) {
        if let until = try await clients.lockedUntil(client, now: now) { throw SignInRefusal.clientLocked(until: until) }
        let record = try await store.loginFailures(email: email, window: policy.failureWindow, now: now)
        if let until = record.lockedUntil { throw SignInRefusal.accountLocked(until: until) }

        let credentials = try await store.credentials(email: email)
        // Unknown accounts cost a bcrypt check too, so timing does not tell which addresses exist.
        let hash = credentials?.passwordHash ?? Self.decoyHash(cost: policy.bcryptCost)
        let matches = try await verify(String(password.prefix(200)), hash: hash)
        guard matches, let user = credentials?.user, credentials?.passwordHash != nil, !user.isDisabled else {
            let failures = try await store.recordLoginFailure(
                email: email, window: policy.failureWindow, limit: policy.accountLimit, lockout: policy.lockout, now: now)
            let clientLocked = try await clients.recordFailure(client, window: policy.failureWindow, limit: policy.clientLimit, lockout: policy.lockout, now: now)
            if let until = failures.lockedUntil {
                logger.warning("newsroom account locked after repeated failed sign-ins", metadata: [
                    "masthead.account": "\(credentials.map { "user \($0.user.id)" } ?? "unknown address")",
                    "masthead.failures": "\(failures.failures)", "masthead.locked_until": "\(until)",
                ])
                throw SignInRefusal.accountLocked(until: until)
            }
            if let clientLocked {
                logger.warning("a client was locked out after repeated failed sign-ins", metadata: ["masthead.locked_until": "\(clientLocked)"])
                throw SignInRefusal.clientLocked(until: clientLocked)
            }
            try await Task.sleep(for: policy.delay(afterFailures: failures.failures))
            throw SignInRefusal.wrongCredentials
        }
        try await store.clearLoginFailures(email: email)
        let token = try await store.createSession(userID: user.id, lifetime: policy.sessionLifetime, now: now)
        logger.info("newsroom sign-in", metadata: ["masthead.user": "\(user.id)"])
        return (user, token)
    }

    /// A valid bcrypt hash of no one's password at the configured cost, checked when the address
    /// has no account, so that answers take as long either way.
    private static func decoyHash(cost: UInt8) -> String {
        decoys.withLock { decoys in
            if let hash = decoys[cost] { return hash }
            let hash = Bcrypt.hash(SecretToken.make(), cost: cost)
            decoys[cost] = hash
            return hash
        }
    }

    private static let decoys = Mutex<[UInt8: String]>([:])

    /// Sets a new password after checking it meets the rule.
    public func setPassword(_ password: String, for userID: Int64) async throws {
        if let problem = User.passwordProblem(password) {
            throw MastheadError(.invalidInput, problem, location: .init(field: "password"))
        }
        try await store.setPasswordHash(userID: userID, try await hash(password: password))
    }
}

/// Failed sign-ins per client, in the database so every instance counts them together, under a
/// keyed hash of the client's address whose key changes every day and is never stored (see
/// ``SiteKeys/clientName(_:purpose:now:)``): the address itself is never kept, logged or stored.
struct ClientThrottle: Sendable {
    let store: Store
    let keys: SiteKeys

    private func name(_ client: String, now: Date) -> String {
        keys.clientName(client, purpose: "sign-in", now: now)
    }

    static let failure = "sign-in-failure"
    /// A lockout is recorded as an event dated at its end: a client is locked while it has one
    /// dated in the future.
    static let lockoutEnd = "sign-in-lockout-end"

    func lockedUntil(_ client: String, now: Date) async throws -> Date? {
        try await store.clientEvents(kind: Self.lockoutEnd, client: name(client, now: now), since: now.addingTimeInterval(1)).last
    }

    /// Counts a failure; returns the lockout's end when this failure locked the client out.
    func recordFailure(_ client: String, window: TimeInterval, limit: Int, lockout: TimeInterval, now: Date) async throws -> Date? {
        let name = name(client, now: now)
        let failures = try await store.recordClientEvent(kind: Self.failure, client: name, at: now, since: now.addingTimeInterval(-window), now: now) ?? []
        guard failures.count >= limit else { return nil }
        let until = now.addingTimeInterval(lockout)
        try await store.recordClientEvent(kind: Self.lockoutEnd, client: name, at: until, since: until, now: now)
        return until
    }
}

/// Runs work for one key at a time (other keys run freely); waiters go in order.
final class KeyedLock: Sendable {
    private let waiting = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    func withLock<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T {
        await acquire(key)
        defer { release(key) }
        return try await body()
    }

    private func acquire(_ key: String) async {
        let mustWait = waiting.withLock { queues -> Bool in
            if queues[key] == nil {
                queues[key] = []
                return false
            }
            return true
        }
        guard mustWait else { return }
        await withCheckedContinuation { continuation in
            let resumeNow = waiting.withLock { queues -> Bool in
                if queues[key] == nil {
                    queues[key] = []
                    return true
                }
                queues[key]!.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func release(_ key: String) {
        let next = waiting.withLock { queues -> CheckedContinuation<Void, Never>? in
            guard var queue = queues[key], !queue.isEmpty else {
                queues[key] = nil
                return nil
            }
            let first = queue.removeFirst()
            queues[key] = queue
            return first
        }
        next?.resume()
    }
}
