import Crypto
import Foundation
import MastheadCore
import MastheadImaging

/// Signs and checks image variant URLs with HMAC-SHA256, so nobody can make the server render
/// sizes the site did not ask for. The site's preset widths need no signature.
public struct ImageSigner: Sendable {
    private let key: SymmetricKey

    /// Widths anyone may ask for without a signature: `/img/-/w800/<path>`.
    public static let presetWidths = [320, 480, 640, 800, 1024, 1280, 1600, 2048]

    public init(secret: Data) {
        key = SymmetricKey(data: secret)
    }

    /// The key in `directory/image-signing.key`, if the site has one.
    public static func existing(in directory: String) -> ImageSigner? {
        guard let data = FileManager.default.contents(atPath: directory + "/image-signing.key"), data.count >= 32 else { return nil }
        return ImageSigner(secret: data)
    }

    /// The key in `directory/image-signing.key`, created (32 random bytes, owner-only) if missing.
    public static func loadOrCreate(in directory: String) throws -> ImageSigner {
        let path = directory + "/image-signing.key"
        if let existing = existing(in: directory) { return existing }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let secret = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            guard FileManager.default.createFile(atPath: path, contents: secret, attributes: [.posixPermissions: 0o600]) else {
                throw MastheadError(.storage, "cannot write \(path)")
            }
            return ImageSigner(secret: secret)
        } catch let error as MastheadError {
            throw error
        } catch {
            throw MastheadError(.storage, "cannot create the image signing key in \(directory): \(error.localizedDescription)")
        }
    }

    /// The signature of a variant of the media file at `path`.
    public func signature(variant: String, path: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(variant)/\(path)".utf8), using: key)
        return Data(mac).prefix(16).base64URLEncoded
    }

    /// Whether `signature` allows `variant` of `path`: a correct signature, or `-` for a preset.
    public func allows(signature: String, variant: ImageVariant, path: String) -> Bool {
        if signature == "-" { return Self.isPreset(variant) }
        let expected = Array(self.signature(variant: variant.description, path: path).utf8)
        let given = Array(signature.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    public static func isPreset(_ variant: ImageVariant) -> Bool {
        // Exactly one spelling per preset width: a fit or gravity given without a height changes
        // nothing in the picture, but would make another variant (more work per width) if allowed.
        variant.height == nil && presetWidths.contains(variant.width ?? 0) && variant.dpr == 1 && variant.quality == ImageVariant.defaultQuality
            && variant.fit == .contain && variant.gravity == .centre
    }

    /// The unsigned URL of a preset width of the media file at `path`.
    public static func presetURL(path: String, width: Int) -> String {
        precondition(presetWidths.contains(width), "\(width) is not a preset width")
        return "/img/-/w\(width)/" + encode(path)
    }

    static func encode(_ path: String) -> String {
        path.split(separator: "/").map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }.joined(separator: "/")
    }

    /// The URL of `variant` of the media file at `path`: unsigned for presets, signed otherwise.
    public func url(path: String, variant: ImageVariant) -> String {
        let encodedPath = Self.encode(path)
        let signature = Self.isPreset(variant) ? "-" : self.signature(variant: variant.description, path: path)
        return "/img/\(signature)/\(variant)/\(encodedPath)"
    }
}
