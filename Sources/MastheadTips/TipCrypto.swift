import Crypto
import CryptoExtras
import Foundation
import MastheadCore

/// Sealing and opening tips. Everything a source sends is sealed with HPKE (RFC 9180, base mode)
/// to the newsroom's public key before it is stored: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
/// ChaCha20-Poly1305. A sealed box is the 32-byte encapsulated key followed by the ciphertext.
public enum TipCrypto {
    public static let suite = HPKE.Ciphersuite.Curve25519_SHA256_ChachaPoly
    /// Binds every box to this use, so a box made for anything else does not open as a tip.
    static let info = Data("masthead tip v1".utf8)

    public typealias PrivateKey = Curve25519.KeyAgreement.PrivateKey
    public typealias PublicKey = Curve25519.KeyAgreement.PublicKey

    /// Seals `plaintext` to `recipient`; `context` (say, the thread's id) must be given again to open it.
    public static func seal(_ plaintext: Data, to recipient: PublicKey, context: Data = Data()) throws -> Data {
        var sender = try HPKE.Sender(recipientKey: recipient, ciphersuite: suite, info: info)
        return sender.encapsulatedKey + (try sender.seal(plaintext, authenticating: context))
    }

    /// Opens a box sealed by ``seal(_:to:context:)``; a wrong key or a damaged box is a clear error.
    public static func open(_ box: Data, with key: PrivateKey, context: Data = Data()) throws -> Data {
        guard box.count > 32 + 16 else { throw TipCryptoError.damaged }
        do {
            var recipient = try HPKE.Recipient(privateKey: key, ciphersuite: suite, info: info, encapsulatedKey: box.prefix(32))
            return try recipient.open(box.dropFirst(32), authenticating: context)
        } catch {
            throw TipCryptoError.wrongKey
        }
    }

    // MARK: The newsroom's key on paper and on disk

    static let privateHeader = "-----BEGIN MASTHEAD TIP PRIVATE KEY-----"
    static let privateFooter = "-----END MASTHEAD TIP PRIVATE KEY-----"

    /// The private key as a small text file to keep offline.
    public static func privateKeyFile(_ key: PrivateKey) -> String {
        "\(privateHeader)\n\(key.rawRepresentation.base64EncodedString())\n\(privateFooter)\n"
    }

    /// Reads a private key file; anything else is an error that says what the file should hold.
    public static func privateKey(fromFile text: String) throws -> PrivateKey {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.count == 3, lines[0] == privateHeader, lines[2] == privateFooter,
              let raw = Data(base64Encoded: lines[1]), raw.count == 32, let key = try? PrivateKey(rawRepresentation: raw)
        else { throw TipCryptoError.notAKeyFile }
        return key
    }

    // MARK: The private key under a passphrase

    /// scrypt with 2^17 × 8 × 128 bytes = 128 MiB of memory per guess.
    static let scryptRounds = 1 << 17

    /// The private key sealed under `passphrase` (scrypt, then ChaCha20-Poly1305), to keep on the
    /// server: `MHTK1` + 16-byte salt + sealed key.
    public static func protect(_ key: PrivateKey, passphrase: String) throws -> Data {
        guard passphrase.count >= 12 else { throw TipCryptoError.weakPassphrase }
        let salt = Data((0..<16).map { _ in UInt8.random(in: 0...255) })
        let wrapping = try KDF.Scrypt.deriveKey(
            from: Data(passphrase.utf8), salt: salt, outputByteCount: 32, rounds: scryptRounds, blockSize: 8, parallelism: 1)
        let sealed = try ChaChaPoly.seal(key.rawRepresentation, using: wrapping, authenticating: Data("MHTK1".utf8)).combined
        return Data("MHTK1".utf8) + salt + sealed
    }

    /// The private key from ``protect(_:passphrase:)``'s output; a wrong passphrase is a clear error.
    public static func unprotect(_ data: Data, passphrase: String) throws -> PrivateKey {
        guard data.count > 5 + 16, data.prefix(5) == Data("MHTK1".utf8) else { throw TipCryptoError.damaged }
        let salt = data.dropFirst(5).prefix(16)
        let wrapping = try KDF.Scrypt.deriveKey(
            from: Data(passphrase.utf8), salt: salt, outputByteCount: 32, rounds: scryptRounds, blockSize: 8, parallelism: 1)
        do {
            let raw = try ChaChaPoly.open(try ChaChaPoly.SealedBox(combined: data.dropFirst(21)), using: wrapping, authenticating: Data("MHTK1".utf8))
            return try PrivateKey(rawRepresentation: raw)
        } catch {
            throw TipCryptoError.wrongPassphrase
        }
    }
}

public enum TipCryptoError: Error, CustomStringConvertible, Equatable {
    case wrongKey
    case damaged
    case notAKeyFile
    case wrongPassphrase
    case weakPassphrase

    public var description: String {
        switch self {
        case .wrongKey: "this tip was not sealed to this key (or it was changed since): it cannot be opened with it"
        case .damaged: "the sealed data is damaged or incomplete"
        case .notAKeyFile: "this is not a Masthead tip private key file (it starts with -----BEGIN MASTHEAD TIP PRIVATE KEY-----)"
        case .wrongPassphrase: "the passphrase does not unlock the newsroom's key"
        case .weakPassphrase: "the passphrase must be at least 12 characters"
        }
    }
}

/// The passphrase a source keeps to come back: words from the EFF list, chosen by the system's
/// random generator. It is stored nowhere: only a slow hash of it (to find the source's thread)
/// and the public half of a key derived from it (so replies can be sealed to the source).
public struct Receipt: Sendable, Equatable, CustomStringConvertible {
    public let words: [String]

    /// 8 words: 8 × log2(7776) ≈ 103 bits.
    public static let wordCount = 8

    public static func make(wordCount: Int = Receipt.wordCount) -> Receipt {
        var generator = SystemRandomNumberGenerator()
        return Receipt(words: (0..<wordCount).map { _ in Wordlist.words.randomElement(using: &generator)! })
    }

    /// What the source typed back: case, spaces, hyphens and line breaks do not matter.
    public init?(typed text: String) {
        let words = text.lowercased().split(whereSeparator: { $0.isWhitespace || $0 == "-" || $0 == "," || $0 == "." }).map(String.init)
        guard words.count >= 7, words.count <= 12 else { return nil }
        self.words = words
    }

    init(words: [String]) {
        self.words = words
    }

    public var description: String { words.joined(separator: " ") }

    /// The bits of entropy a receipt of `count` words carries.
    public static func bits(words count: Int) -> Double { Double(count) * log2(Double(Wordlist.words.count)) }

    /// One slow, salted derivation (scrypt, 32 MiB) of the receipt: a lookup hash for the thread,
    /// and the key pair replies are sealed to.
    public func derive(salt: Data) throws -> (lookup: String, replyKey: TipCrypto.PrivateKey) {
        let material = try KDF.Scrypt.deriveKey(
            from: Data(description.utf8), salt: salt + Data("masthead receipt".utf8), outputByteCount: 64, rounds: 1 << 15, blockSize: 8, parallelism: 1)
        let bytes = material.withUnsafeBytes { Data($0) }
        return (Array(bytes.prefix(32)).hexEncoded, try TipCrypto.PrivateKey(rawRepresentation: bytes.suffix(32)))
    }
}
