import CVips
import Foundation

/// The image formats Masthead reads and writes.
public enum ImageFormat: String, Sendable, CaseIterable {
    case jpeg, png, webp, avif, gif

    public var mediaType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .webp: "image/webp"
        case .avif: "image/avif"
        case .gif: "image/gif"
        }
    }

    /// The file extension variants are saved with.
    public var fileExtension: String { self == .jpeg ? "jpg" : rawValue }

    /// File extensions that may name a file of this format.
    public var fileExtensions: Set<String> {
        switch self {
        case .jpeg: ["jpg", "jpeg", "jpe"]
        case .png: ["png"]
        case .webp: ["webp"]
        case .avif: ["avif"]
        case .gif: ["gif"]
        }
    }

    /// The format `bytes` (a file's first bytes) are in, from their signature; nil for anything
    /// else, SVG, PDF and text included.
    public static func sniff(_ bytes: some Collection<UInt8>) -> ImageFormat? {
        let b = Array(bytes.prefix(16))
        func at(_ offset: Int, _ ascii: String) -> Bool {
            let expected = Array(ascii.utf8)
            return b.count >= offset + expected.count && Array(b[offset..<offset + expected.count]) == expected
        }
        if b.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if at(0, "GIF87a") || at(0, "GIF89a") { return .gif }
        if at(0, "RIFF") && at(8, "WEBP") { return .webp }
        if at(4, "ftypavif") || at(4, "ftypavis") { return .avif }
        return nil
    }
}

/// Limits on the images Masthead accepts, checked from the file's size and header before any
/// pixel is decoded.
public struct ImageLimits: Sendable, Equatable {
    /// Largest file accepted, in bytes.
    public var maxBytes: Int
    /// Largest image accepted, in pixels (width × height).
    public var maxPixels: Int
    /// Longest side accepted, in pixels.
    public var maxDimension: Int
    /// Most frames an animated image may have.
    public var maxFrames: Int

    public init(maxBytes: Int = 50 * 1024 * 1024, maxPixels: Int = 100_000_000, maxDimension: Int = 30_000, maxFrames: Int = 100) {
        self.maxBytes = maxBytes
        self.maxPixels = maxPixels
        self.maxDimension = maxDimension
        self.maxFrames = maxFrames
    }
}

/// Why an image was refused. `reason` maps onto an HTTP status; `message` says what to do.
public struct ImageRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// Not an image type the site accepts (SVG, PDF, text, an unknown signature).
        case unsupportedType
        /// The name says one type, the bytes another.
        case wrongExtension
        /// Too many bytes, pixels or frames.
        case tooLarge
        /// Truncated or damaged.
        case damaged
        /// No such file.
        case missing
    }

    public var reason: Reason
    public var message: String
    public var description: String { message }

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }
}

/// An image file that passed every check, with what its header says.
public struct SourceImage: Sendable, Equatable {
    public var path: String
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    public var hasAlpha: Bool
    public var frames: Int
    public var byteCount: Int

    /// Checks the file at `path` against `limits` without decoding it.
    /// With `checkExtension`, a name whose extension does not match the bytes is refused too.
    public static func inspect(_ path: String, limits: ImageLimits = ImageLimits(), checkExtension: Bool = false) throws -> SourceImage {
        let name = (path as NSString).lastPathComponent
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), (attributes[.type] as? FileAttributeType) == .typeRegular else {
            throw ImageRejection(.missing, "\(name): no such image")
        }
        let byteCount = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard byteCount <= limits.maxBytes else {
            throw ImageRejection(.tooLarge, "\(name) is \(byteCount / 1_048_576) MB; the limit is \(limits.maxBytes / 1_048_576) MB")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImageRejection(.missing, "\(name) cannot be read") }
        let head = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        guard let format = ImageFormat.sniff(head) else {
            throw ImageRejection(.unsupportedType, "\(name) is not a JPEG, PNG, WebP, AVIF or GIF image")
        }
        let fileExtension = (name as NSString).pathExtension.lowercased()
        if checkExtension, !format.fileExtensions.contains(fileExtension) {
            throw ImageRejection(.wrongExtension, "\(name) is named .\(fileExtension) but holds a \(format.rawValue.uppercased()) image")
        }
        try Vips.start()
        var loader: UnsafePointer<CChar>?
        var width: Int32 = 0
        var height: Int32 = 0
        var bands: Int32 = 0
        var pages: Int32 = 0
        guard masthead_vips_inspect(path, &loader, &width, &height, &bands, &pages) == 0 else {
            throw ImageRejection(.damaged, "\(name) is damaged or not an image: \(Vips.lastError())")
        }
        guard width > 0, height > 0, Int(width) <= limits.maxDimension, Int(height) <= limits.maxDimension,
            Int(width) * Int(height) <= limits.maxPixels
        else {
            throw ImageRejection(
                .tooLarge, "\(name) is \(width)×\(height) pixels; the limit is \(limits.maxPixels / 1_000_000) megapixels and \(limits.maxDimension) pixels a side")
        }
        guard Int(pages) <= limits.maxFrames else {
            throw ImageRejection(.tooLarge, "\(name) has \(pages) frames; the limit is \(limits.maxFrames)")
        }
        return SourceImage(
            path: path, format: format, width: Int(width), height: Int(height), hasAlpha: bands == 2 || bands == 4,
            frames: Int(pages), byteCount: byteCount)
    }
}
