import Foundation

/// What a source sends, as it is sealed: the message, optional contact details and files.
public struct TipContent: Codable, Sendable, Equatable {
    public var text: String
    public var contact: String
    public var attachments: [TipAttachment]

    public init(text: String, contact: String = "", attachments: [TipAttachment] = []) {
        self.text = text
        self.contact = contact
        self.attachments = attachments
    }

    public func sealed(to key: TipCrypto.PublicKey, context: Data) throws -> Data {
        try TipCrypto.seal(try JSONEncoder().encode(self), to: key, context: context)
    }

    public static func opened(_ box: Data, with key: TipCrypto.PrivateKey, context: Data) throws -> TipContent {
        let plain = try TipCrypto.open(box, with: key, context: context)
        guard let content = try? JSONDecoder().decode(TipContent.self, from: plain) else { throw TipCryptoError.damaged }
        return content
    }

    /// Binds a box to its thread, so a message cannot be moved into another source's thread.
    public static func context(thread lookup: String) -> Data { Data("thread:\(lookup)".utf8) }
}

/// A file a source attached.
public struct TipAttachment: Codable, Sendable, Equatable {
    public var name: String
    /// The type judged from the bytes (`image/jpeg`), or what the browser said for other files.
    public var type: String
    public var data: Data
    /// True when the image's metadata (EXIF with GPS, XMP, IPTC) was removed before sealing;
    /// false for files kept as sent, which may still carry metadata (names, places, software).
    public var metadataRemoved: Bool

    public init(name: String, type: String, data: Data, metadataRemoved: Bool) {
        self.name = name
        self.type = type
        self.data = data
        self.metadataRemoved = metadataRemoved
    }
}
