import Crypto
import Foundation
import MastheadImaging
import MastheadTesting
@testable import MastheadTips
import Testing

/// RFC 9180's test vectors for the suite tips use: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
/// ChaCha20-Poly1305, base mode (the vectors published with the RFC, as swift-crypto ships them).
struct Vector: Decodable {
    var mode: Int
    var kem_id: Int
    var kdf_id: Int
    var aead_id: Int
    var info: String
    var skRm: String
    var pkRm: String
    var enc: String
    var encryptions: [Encryption]
    var exports: [Export]

    struct Encryption: Decodable {
        var aad: String
        var ct: String
        var nonce: String
        var pt: String
    }

    struct Export: Decodable {
        var exporter_context: String
        var L: Int
        var exported_value: String
    }
}

extension Data {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self.init(bytes)
    }
}

@Suite struct TipCryptoTests {
    @Test func theSuitePassesRFC9180TestVectors() throws {
        let url = try #require(Bundle.module.url(forResource: "rfc9180-base-x25519-sha256-chacha20poly1305", withExtension: "json"))
        let vectors = try JSONDecoder().decode([Vector].self, from: Data(contentsOf: url))
        #expect(!vectors.isEmpty)
        for vector in vectors {
            #expect(vector.mode == 0 && vector.kem_id == 0x20 && vector.kdf_id == 1 && vector.aead_id == 3)
            let key = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: Data(hex: vector.skRm))
            #expect(key.publicKey.rawRepresentation == Data(hex: vector.pkRm))
            var recipient = try HPKE.Recipient(
                privateKey: key, ciphersuite: TipCrypto.suite, info: Data(hex: vector.info), encapsulatedKey: Data(hex: vector.enc))
            // Every encryption, in sequence: each opens to its plaintext with its additional data.
            for encryption in vector.encryptions {
                let opened = try recipient.open(Data(hex: encryption.ct), authenticating: Data(hex: encryption.aad))
                #expect(opened == Data(hex: encryption.pt))
            }
            for export in vector.exports {
                let secret = try recipient.exportSecret(context: Data(hex: export.exporter_context), outputByteCount: export.L)
                #expect(secret.withUnsafeBytes { Data($0) } == Data(hex: export.exported_value))
            }
        }
    }

    @Test func sealedTipsOpenOnlyWithTheRightKeyAndContext() throws {
        let newsroom = TipCrypto.PrivateKey()
        let content = TipContent(text: "The council minutes were altered.", contact: "signal: +44 …")
        let box = try content.sealed(to: newsroom.publicKey, context: TipContent.context(thread: "abc"))
        #expect(!String(decoding: box, as: UTF8.self).contains("council"))
        #expect(try TipContent.opened(box, with: newsroom, context: TipContent.context(thread: "abc")) == content)
        #expect(throws: TipCryptoError.wrongKey) { try TipContent.opened(box, with: TipCrypto.PrivateKey(), context: TipContent.context(thread: "abc")) }
        #expect(throws: TipCryptoError.wrongKey) { try TipContent.opened(box, with: newsroom, context: TipContent.context(thread: "other")) }
        var damaged = box
        damaged[damaged.count - 1] ^= 1
        #expect(throws: TipCryptoError.wrongKey) { try TipContent.opened(damaged, with: newsroom, context: TipContent.context(thread: "abc")) }
    }

    @Test func keyFilesAndPassphrasesRoundTrip() throws {
        let key = TipCrypto.PrivateKey()
        let file = TipCrypto.privateKeyFile(key)
        #expect(file.hasPrefix("-----BEGIN MASTHEAD TIP PRIVATE KEY-----\n"))
        #expect(try TipCrypto.privateKey(fromFile: file).rawRepresentation == key.rawRepresentation)
        #expect(throws: TipCryptoError.notAKeyFile) { try TipCrypto.privateKey(fromFile: "not a key") }
        let protected = try TipCrypto.protect(key, passphrase: "correct horse battery staple")
        #expect(!protected.contains(key.rawRepresentation))
        #expect(try TipCrypto.unprotect(protected, passphrase: "correct horse battery staple").rawRepresentation == key.rawRepresentation)
        #expect(throws: TipCryptoError.wrongPassphrase) { try TipCrypto.unprotect(protected, passphrase: "wrong horse battery staple") }
        #expect(throws: TipCryptoError.weakPassphrase) { try TipCrypto.protect(key, passphrase: "short") }
    }

    @Test func receiptsAreLongRandomAndDeriveTheSameKeysWhenTypedBack() throws {
        #expect(Wordlist.words.count == 7776 && Set(Wordlist.words).count == 7776)
        let receipt = Receipt.make()
        #expect(receipt.words.count == 8 && Receipt.bits(words: receipt.words.count) > 100)
        #expect(Receipt.bits(words: 7) > 90)
        #expect(Receipt.make() != receipt)
        let salt = Data(repeating: 7, count: 32)
        let (lookup, key) = try receipt.derive(salt: salt)
        let typed = try #require(Receipt(typed: "  " + receipt.words.joined(separator: "-").uppercased() + "\n"))
        let again = try typed.derive(salt: salt)
        #expect(again.lookup == lookup && again.replyKey.rawRepresentation == key.rawRepresentation)
        #expect(try receipt.derive(salt: Data(repeating: 8, count: 32)).lookup != lookup)
        #expect(Receipt(typed: "too few words here") == nil)
    }

    @Test func imageMetadataIsRemovedInMemory() throws {
        // A JPEG with EXIF (camera, time and GPS position), made with libvips itself.
        let clean = try JPEGEncoder.encode(rgb: [UInt8](repeating: 128, count: 64 * 48 * 3), width: 64, height: 48)
        let cleaned = try ImageRenderer.withoutMetadata(clean)
        #expect(cleaned.format == .jpeg && cleaned.width == 64 && !ImageRenderer.hasMetadata(cleaned.data))
        #expect(throws: ImageRejection.self) { try ImageRenderer.withoutMetadata(Data("%PDF-1.4".utf8)) }
    }
}
