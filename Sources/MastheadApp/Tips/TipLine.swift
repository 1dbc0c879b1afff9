import Crypto
import Foundation
import Logging
import NIOPosix
import MastheadCore
import MastheadForms
import MastheadImaging
import MastheadStorage
import MastheadTips
import ServiceLifecycle
import Synchronization

/// What the tip line accepts.
public struct TipLimits: Sendable {
    public var maxFiles = 5
    public var maxFileBytes = 10 * 1_048_576
    /// The largest picture accepted, in pixels: decoding costs memory and time in proportion,
    /// and anyone may send one.
    public var maxImagePixels = 25_000_000
    public var maxTextCharacters = 50_000
    /// Submissions (new tips, follow-ups and receipt checks) one client may make per hour.
    public var perClientPerHour = 30
    /// A tip form sent sooner than this after it was served is answered only once it is this old:
    /// a cost for every submission, without JavaScript.
    public var minimumFormAge: TimeInterval = 3
    /// Tips quiet for longer are deleted unless an editor keeps them.
    public var retentionDays = 90

    public init() {}
}

/// The tip line's working parts: the newsroom's key, sealing, receipts, abuse limits, and the
/// keys editors unlocked for their session. Nothing here logs, and nothing here writes a
/// plaintext byte of a tip anywhere: images are cleaned in memory and everything is sealed
/// before it reaches the store.
public final class TipLine: Sendable {
    let store: Store
    let limits: TipLimits
    /// An `http://….onion` address of the site, announced with `Onion-Location`.
    let onionAddress: String?
    private let formKey: SymmetricKey
    private let keys: SiteKeys
    /// How long a key editors unlocked with the passphrase stays unlocked for their session.
    static let unlockLifetime: TimeInterval = 30 * 60

    public init(store: Store, limits: TipLimits, onionAddress: String?, keys: SiteKeys) {
        self.store = store
        self.limits = limits
        self.onionAddress = onionAddress
        self.keys = keys
        self.formKey = keys.key("tip-form")
    }

    // MARK: Abuse limits

    /// A token for a freshly served form: the time, signed with a key that lives only in memory.
    func formToken(now: Date = .now) -> String {
        // Milliseconds, so the minimum age is measured exactly (whole seconds would cut it by up to one).
        let stamp = String(Int(now.timeIntervalSince1970 * 1000)) + "." + SecretToken.make(bytes: 9)
        return stamp + "." + formSignature(stamp)
    }

    private func formSignature(_ stamp: some StringProtocol) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(stamp.utf8), using: formKey)).base64URLEncoded
    }

    /// Accepts a form token once, within two hours of serving the form. A form sent sooner than
    /// the minimum age is not refused: the answer waits until the form is that old, so every
    /// submission costs its sender at least that long, a person's or a script's.
    func useFormToken(_ token: String, now: Date = .now) async throws -> TipRefusal? {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let issued = Int(parts[0]) else { return .formExpired }
        guard NewsroomMiddleware.constantTimeEqual(String(parts[2]), formSignature(parts[0] + "." + parts[1])) else { return .formExpired }
        let age = now.timeIntervalSince1970 - Double(issued) / 1000
        guard age <= 7200 else { return .formExpired }
        // Used once across every instance: the database remembers it until it would expire anyway.
        let hash = Data(SHA256.hash(data: Data(token.utf8))).base64URLEncoded
        guard try await store.useOnce(tokenHash: hash, until: Date(timeIntervalSince1970: Double(issued) / 1000 + 7200), now: now) else {
            return .formExpired
        }
        if age < limits.minimumFormAge {
            try? await Task.sleep(for: .milliseconds(Int((limits.minimumFormAge - age) * 1000)))
        }
        return nil
    }

    /// Counts one submission for the client; refuses past the limit for the clock hour. The client
    /// is kept only as a short keyed hash (``SiteKeys/clientName(_:purpose:now:)``) and the time
    /// only as the hour, so the record cannot be lined up with the tips themselves; earlier
    /// hours' records go as the client sends again, and hourly (``TipRetention``).
    func allow(client: String, now: Date = .now) async throws -> Bool {
        let hour = Self.hour(of: now)
        return try await store.recordClientEvent(
            kind: Self.tipEvent, client: keys.clientName(client, purpose: "tips", now: now), at: hour,
            since: hour, limit: limits.perClientPerHour, now: now) != nil
    }

    static let tipEvent = "tip"

    /// The start of the clock hour `date` falls in.
    static func hour(of date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
    }

    // MARK: Sealing

    /// The newsroom's public key and receipt salt, or nil when the tip line has no key yet.
    func key() async throws -> (publicKey: TipCrypto.PublicKey, salt: Data, protected: Data?)? {
        guard let stored = try await store.tipKey(), let key = try? TipCrypto.PublicKey(rawRepresentation: stored.publicKey) else { return nil }
        return (key, stored.receiptSalt, stored.protectedPrivateKey)
    }

    /// Files as they will be sealed: images without their metadata, other files as sent (flagged).
    /// Images are decoded on the blocking-work threads within the process's image limiter, so a
    /// burst of anonymous uploads waits its turn instead of stalling every reader.
    func attachments(_ files: [UploadedFile]) async throws -> [TipAttachment] {
        guard files.count <= limits.maxFiles else { throw TipRefusal.tooManyFiles(limits.maxFiles) }
        var attachments: [TipAttachment] = []
        for file in files {
            guard file.size <= limits.maxFileBytes else { throw TipRefusal.fileTooLarge(file.filename, limits.maxFileBytes) }
            let name = Self.safeName(file.filename)
            let data = try file.contents()
            guard ImageFormat.sniff(data.prefix(64)) != nil else {
                attachments.append(TipAttachment(name: name, type: "application/octet-stream", data: data, metadataRemoved: false))
                continue
            }
            let maxPixels = limits.maxImagePixels
            let cleaned = try await BlockingWork.image { () throws(TipRefusal) -> EncodedImage in
                guard let header = ImageRenderer.header(of: data), header.width * header.height <= maxPixels,
                      max(header.width, header.height) <= 20_000 else {
                    throw TipRefusal.imageTooLarge(name, maxPixels / 1_000_000)
                }
                do { return try ImageRenderer.withoutMetadata(data) } catch { throw TipRefusal.badImage(name) }
            }
            let base = (name as NSString).deletingPathExtension
            attachments.append(TipAttachment(
                name: base + "." + cleaned.format.fileExtension, type: cleaned.format.mediaType, data: cleaned.data, metadataRemoved: true))
        }
        return attachments
    }

    /// A file name without folders or odd characters, at most 100 characters.
    static func safeName(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? "file"
        let cleaned = String(last.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || ".-_ ".unicodeScalars.contains($0) ? Character($0) : "_" })
        return cleaned.isEmpty ? "file" : String(cleaned.prefix(100))
    }

    /// Seals a new tip and starts its thread; returns the receipt for the source to keep.
    func submit(_ content: TipContent, now: Date = .now) async throws -> Receipt {
        guard let (publicKey, salt, _) = try await key() else { throw TipRefusal.notOpen }
        let receipt = Receipt.make()
        let (lookup, replyKey) = try await Self.derive(receipt, salt: salt)
        let box = try content.sealed(to: publicKey, context: TipContent.context(thread: lookup))
        _ = try await store.createTipThread(lookupHash: lookup, replyKey: replyKey.publicKey.rawRepresentation, box: box, day: Self.day(now))
        return receipt
    }

    /// The thread a receipt opens, with the replies only its holder can read.
    func conversation(_ receipt: Receipt) async throws -> (thread: TipThread, lookup: String, replies: [(day: String, text: String)])? {
        guard let (_, salt, _) = try await key() else { return nil }
        let (lookup, replyKey) = try await Self.derive(receipt, salt: salt)
        guard let thread = try await store.tipThread(lookupHash: lookup) else { return nil }
        var replies: [(String, String)] = []
        for message in try await store.tipMessages(threadID: thread.id) where !message.fromSource {
            guard let box = message.sourceBox, let content = try? TipContent.opened(box, with: replyKey, context: TipContent.context(thread: lookup)) else { continue }
            replies.append((message.day, content.text))
        }
        return (thread, lookup, replies)
    }

    /// A further message from the source, sealed to the newsroom like the first.
    func followUp(_ content: TipContent, thread: TipThread, lookup: String, now: Date = .now) async throws {
        guard let (publicKey, _, _) = try await key() else { throw TipRefusal.notOpen }
        let box = try content.sealed(to: publicKey, context: TipContent.context(thread: lookup))
        try await store.addTipMessage(threadID: thread.id, fromSource: true, newsroomBox: box, sourceBox: nil, day: Self.day(now))
    }

    /// A reply from the newsroom: sealed to the source's reply key, and to the newsroom's key so
    /// editors can read their own side of the conversation.
    func reply(_ text: String, to thread: TipThread, now: Date = .now) async throws {
        guard let (publicKey, _, _) = try await key(), let sourceKey = try? TipCrypto.PublicKey(rawRepresentation: thread.replyKey) else {
            throw TipRefusal.notOpen
        }
        let content = TipContent(text: text)
        let context = TipContent.context(thread: thread.lookupHash)
        try await store.addTipMessage(
            threadID: thread.id, fromSource: false, newsroomBox: try content.sealed(to: publicKey, context: context),
            sourceBox: try content.sealed(to: sourceKey, context: context), day: Self.day(now))
    }

    /// The receipt's slow derivation (scrypt, 32 MiB), on the blocking-work threads.
    static func derive(_ receipt: Receipt, salt: Data) async throws -> (lookup: String, replyKey: TipCrypto.PrivateKey) {
        try await NIOThreadPool.singleton.runIfActive { try receipt.derive(salt: salt) }
    }

    // MARK: The newsroom's private key, unlocked per session

    /// Wrong passphrases per account: at most ``maxUnlockFailures`` in ``unlockFailureWindow``,
    /// then unlocking is refused until the window has passed. Each guess costs 128 MiB of scrypt,
    /// but a stolen editor session must not get to guess without end. Counted in the database,
    /// so every instance refuses alike.
    static let maxUnlockFailures = 5
    static let unlockFailureWindow: TimeInterval = 15 * 60
    static let unlockAttempt = "tip-unlock-attempt"
    /// What a sealed unlocked key is bound to (its format's name).
    static let unlockedKeyContext = Data("MHTU1".utf8)

    /// Unlocks the newsroom's private key for the session whose cookie holds `session`, on every
    /// instance: the key is kept in the database sealed with a key derived from the session's
    /// token, which only the editor's browser holds (the database keeps a hash of it), so the
    /// database alone cannot open it.
    func unlock(session: String, userID: Int64, passphrase: String, now: Date = .now) async throws {
        guard let (publicKey, _, protected) = try await key(), let protected else { throw TipRefusal.keyOffline }
        let account = "user \(userID)"
        let window = now.addingTimeInterval(-Self.unlockFailureWindow)
        // Each guess is counted before it is tried (and forgotten when it was right), so guesses
        // sent at once, to one instance or several, cannot slip past the limit.
        guard try await store.recordClientEvent(
            kind: Self.unlockAttempt, client: account, at: now, since: window, limit: Self.maxUnlockFailures, now: now) != nil else {
            let first = try await store.clientEvents(kind: Self.unlockAttempt, client: account, since: window).first ?? now
            throw TipRefusal.unlockLocked(until: first.addingTimeInterval(Self.unlockFailureWindow))
        }
        let key = try await BlockingWork.run { try TipCrypto.unprotect(protected, passphrase: passphrase) }
        guard key.publicKey.rawRepresentation == publicKey.rawRepresentation else { throw TipCryptoError.wrongPassphrase }
        try await store.forgetClientEvents(kind: Self.unlockAttempt, client: account)
        let sealed = try ChaChaPoly.seal(key.rawRepresentation, using: Self.sessionKey(session), authenticating: Self.unlockedKeyContext).combined
        try await store.saveTipUnlock(sessionHash: Self.sessionHash(session), sealedKey: sealed, until: now.addingTimeInterval(Self.unlockLifetime), now: now)
    }

    func lock(session: String) async throws {
        try await store.deleteTipUnlock(sessionHash: Self.sessionHash(session))
    }

    func unlockedKey(session: String, now: Date = .now) async throws -> TipCrypto.PrivateKey? {
        guard !session.isEmpty, let sealed = try await store.tipUnlock(sessionHash: Self.sessionHash(session), now: now),
              let box = try? ChaChaPoly.SealedBox(combined: sealed),
              let raw = try? ChaChaPoly.open(box, using: Self.sessionKey(session), authenticating: Self.unlockedKeyContext) else { return nil }
        return try? TipCrypto.PrivateKey(rawRepresentation: raw)
    }

    /// The key that seals a session's unlocked tip key: from the session's token.
    private static func sessionKey(_ session: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(session.utf8)), info: Data("masthead tip unlock key".utf8), outputByteCount: 32)
    }

    /// How the database names a session's unlocked key: unrelated to the session's own hash.
    private static func sessionHash(_ session: String) -> String {
        Data(SHA256.hash(data: Data("masthead tip unlock/\(session)".utf8))).base64URLEncoded
    }

    /// Today, in UTC, as `YYYY-MM-DD`: the only time kept with a tip.
    public static func day(_ date: Date) -> String {
        date.day(in: TimeZone(identifier: "UTC")!)
    }
}

/// Why the tip line refused something, in words for the source.
enum TipRefusal: Error, Equatable {
    case notOpen
    case keyOffline
    case formExpired
    case rateLimited
    case emptyMessage
    case messageTooLong(Int)
    case tooManyFiles(Int)
    case fileTooLarge(String, Int)
    case badImage(String)
    case imageTooLarge(String, Int)
    case unlockLocked(until: Date)

    var message: String {
        switch self {
        case .notOpen: "The tip line is not open yet: the newsroom has not set up its key."
        case .keyOffline: "The newsroom's key is kept offline: read tips with 'masthead tips open'."
        case .formExpired: "This form has expired or was already sent. Your text is below: send it again."
        case .rateLimited: "Too many messages from your connection in the last hour. Please try again later."
        case .emptyMessage: "Please write a message."
        case .messageTooLong(let limit): "The message is longer than \(limit) characters."
        case .tooManyFiles(let limit): "Attach at most \(limit) files."
        case .fileTooLarge(let name, let limit): "“\(name)” is larger than \(limit / 1_048_576) MB."
        case .badImage(let name): "“\(name)” looks like an image but cannot be read; it was not accepted."
        case .unlockLocked(let until):
            "Too many wrong passphrases: unlocking is refused for \(max(1, Int(until.timeIntervalSinceNow / 60) + 1)) more minutes. Nothing was unlocked."
        case .imageTooLarge(let name, let megapixels): "“\(name)” is a picture of more than \(megapixels) megapixels; send a smaller copy."
        }
    }
}

/// Deletes tips quiet for longer than the retention period (unless kept), checking hourly.
struct TipRetention: Service {
    let store: Store
    let days: Int
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let cutoff = TipLine.day(Date.now.addingTimeInterval(-Double(days) * 86_400))
                let deleted = try await store.deleteExpiredTips(lastActiveBefore: cutoff)
                try await store.sweepClientEvents(kind: TipLine.tipEvent, before: TipLine.hour(of: .now))
                if deleted > 0 { logger.info("deleted expired tips", metadata: ["masthead.tips.deleted": "\(deleted)"]) }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                logger.warning("cannot delete expired tips", metadata: ["masthead.error": "\(type(of: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(3600)) }
        }
    }
}
