import CVips
import Foundation

/// How a variant of a stored image is cut: its box, how the picture fills it, and its quality.
///
/// Written in URLs as dash-separated parts in this order: `w800`, `h450`, `cover`/`contain`,
/// `g<gravity>`, `dpr2`, `q75` — e.g. `w800-h450-cover-gsmart-q75`. Every part but one of `w`/`h`
/// may be left out.
public struct ImageVariant: Sendable, Hashable, CustomStringConvertible {
    public enum Fit: String, Sendable, CaseIterable {
        /// Fill the box, cropping what does not fit.
        case cover
        /// Fit inside the box, keeping the whole picture.
        case contain
    }

    public enum Gravity: String, Sendable, CaseIterable {
        case centre
        /// The part most likely to draw the eye (skin tones, saturated colour, edges): libvips' attention crop.
        case smart
        /// The busiest part (most entropy).
        case entropy

        var vips: Int32 {
            switch self {
            case .centre: Int32(VIPS_INTERESTING_CENTRE.rawValue)
            case .smart: Int32(VIPS_INTERESTING_ATTENTION.rawValue)
            case .entropy: Int32(VIPS_INTERESTING_ENTROPY.rawValue)
            }
        }
    }

    public var width: Int?
    public var height: Int?
    public var fit: Fit
    public var gravity: Gravity
    /// Device pixel ratio: the box in CSS pixels times this is the size in image pixels.
    public var dpr: Int
    public var quality: Int

    public static let defaultQuality = 75
    public static let maxBox = 4096

    public init(width: Int? = nil, height: Int? = nil, fit: Fit = .contain, gravity: Gravity = .centre, dpr: Int = 1, quality: Int = ImageVariant.defaultQuality) {
        self.width = width
        self.height = height
        self.fit = fit
        self.gravity = gravity
        self.dpr = dpr
        self.quality = quality
    }

    /// Reads a variant from its URL form; nil when any part is unknown, repeated, out of range
    /// or out of order, so each variant has exactly one spelling.
    public init?(parsing text: String) {
        var variant = ImageVariant()
        var explicitFit = false
        var explicitGravity = false
        var explicitDPR = false
        var explicitQuality = false
        for part in text.split(separator: "-", omittingEmptySubsequences: false).map(String.init) {
            if part.hasPrefix("w"), let value = Int(part.dropFirst()), variant.width == nil, variant.height == nil, !explicitFit {
                variant.width = value
            } else if part.hasPrefix("h"), let value = Int(part.dropFirst()), variant.height == nil, !explicitFit {
                variant.height = value
            } else if let fit = Fit(rawValue: part), !explicitFit, !explicitGravity {
                variant.fit = fit
                explicitFit = true
            } else if part.hasPrefix("g"), let gravity = Gravity(rawValue: String(part.dropFirst())), !explicitGravity, !explicitDPR {
                variant.gravity = gravity
                explicitGravity = true
            } else if part.hasPrefix("dpr"), let value = Int(part.dropFirst(3)), !explicitDPR, !explicitQuality {
                variant.dpr = value
                explicitDPR = true
            } else if part.hasPrefix("q"), let value = Int(part.dropFirst()), !explicitQuality {
                variant.quality = value
                explicitQuality = true
            } else {
                return nil
            }
        }
        guard variant.width != nil || variant.height != nil,
            (variant.width ?? 1) >= 1, (variant.width ?? 1) <= Self.maxBox,
            (variant.height ?? 1) >= 1, (variant.height ?? 1) <= Self.maxBox,
            (1...3).contains(variant.dpr), (1...100).contains(variant.quality),
            variant.description == text
        else { return nil }
        self = variant
    }

    /// The URL form, in the one canonical order.
    public var description: String {
        var parts: [String] = []
        if let width { parts.append("w\(width)") }
        if let height { parts.append("h\(height)") }
        if fit != .contain { parts.append(fit.rawValue) }
        if gravity != .centre { parts.append("g" + gravity.rawValue) }
        if dpr != 1 { parts.append("dpr\(dpr)") }
        if quality != Self.defaultQuality { parts.append("q\(quality)") }
        return parts.joined(separator: "-")
    }
}

/// An encoded variant, ready to send.
public struct EncodedImage: Sendable {
    public var data: Data
    public var format: ImageFormat
    public var width: Int
    public var height: Int
}

/// Makes variants with libvips: shrink-on-load, auto-rotation, sRGB, metadata stripped.
public enum ImageRenderer {
    /// Whether this machine's libvips can write AVIF.
    public static let canWriteAVIF: Bool = {
        (try? Vips.start()) != nil && masthead_vips_can_save("heifsave_buffer") != 0
    }()

    /// The variant `variant` of `source`, in `format` (PNG instead of JPEG when the source has
    /// alpha, so transparency survives).
    public static func render(_ source: SourceImage, variant: ImageVariant, format requested: ImageFormat) throws -> EncodedImage {
        try Vips.start()
        var format = requested
        if format == .jpeg && source.hasAlpha { format = .png }
        if format == .gif { format = source.hasAlpha ? .png : .jpeg }
        if format == .avif && !canWriteAVIF { format = .webp }

        let boxWidth = variant.width.map { $0 * variant.dpr } ?? 10_000_000
        let boxHeight = variant.height.map { $0 * variant.dpr } ?? 10_000_000
        let crop = variant.fit == .cover && variant.width != nil && variant.height != nil ? variant.gravity.vips : Int32(VIPS_INTERESTING_NONE.rawValue)
        var image: UnsafeMutablePointer<VipsImage>?
        guard masthead_vips_resize(source.path, Int32(boxWidth), Int32(boxHeight), crop, &image) == 0, let image else {
            throw ImageRejection(.damaged, "\((source.path as NSString).lastPathComponent) cannot be decoded: \(Vips.lastError())")
        }
        defer { masthead_vips_unref(image) }
        return try encode(image, format: format, quality: variant.quality)
    }

    /// A tiny, blurred version of `source` as a `data:` URL, shown while the real picture loads.
    public static func placeholder(_ source: SourceImage) throws -> String {
        try Vips.start()
        var small: UnsafeMutablePointer<VipsImage>?
        guard masthead_vips_resize(source.path, 24, 24, Int32(VIPS_INTERESTING_NONE.rawValue), &small) == 0, let small else {
            throw ImageRejection(.damaged, "cannot make a placeholder: \(Vips.lastError())")
        }
        defer { masthead_vips_unref(small) }
        var blurred: UnsafeMutablePointer<VipsImage>?
        guard masthead_vips_blur(small, 1.2, &blurred) == 0, let blurred else {
            throw ImageRejection(.damaged, "cannot blur a placeholder: \(Vips.lastError())")
        }
        defer { masthead_vips_unref(blurred) }
        let encoded = try encode(blurred, format: source.hasAlpha ? .png : .jpeg, quality: 40)
        return "data:\(encoded.format.mediaType);base64,\(encoded.data.base64EncodedString())"
    }

    private static func encode(_ image: UnsafeMutablePointer<VipsImage>, format: ImageFormat, quality: Int) throws -> EncodedImage {
        let code: Int32 = switch format {
        case .jpeg, .gif: Int32(MASTHEAD_JPEG)
        case .png: Int32(MASTHEAD_PNG)
        case .webp: Int32(MASTHEAD_WEBP)
        case .avif: Int32(MASTHEAD_AVIF)
        }
        // AVIF holds the same detail as WebP and JPEG at a lower quality number.
        let q = format == .avif ? max(1, quality * 2 / 3) : quality
        var output: UnsafeMutableRawPointer?
        var length = 0
        // libvips decodes lazily, while encoding: a truncated or damaged source fails here.
        guard masthead_vips_save(image, code, Int32(q), &output, &length) == 0, let output else {
            throw ImageRejection(.damaged, "the image is damaged or truncated: \(Vips.lastError())")
        }
        defer { masthead_vips_free(output) }
        return EncodedImage(
            data: Data(bytes: output, count: length), format: format == .gif ? .jpeg : format,
            width: Int(masthead_vips_width(image)), height: Int(masthead_vips_height(image)))
    }

    /// The same picture without any metadata (EXIF with its GPS position, XMP, IPTC, camera and
    /// times), upright, re-encoded in its own format at high quality (GIFs as PNG). Works in memory:
    /// the original bytes are never written anywhere.
    public static func withoutMetadata(_ data: Data) throws -> EncodedImage {
        try Vips.start()
        guard let format = ImageFormat.sniff(data.prefix(64)) else {
            throw ImageRejection(.unsupportedType, "not a JPEG, PNG, WebP, AVIF or GIF image")
        }
        return try data.withUnsafeBytes { bytes in
            var image: UnsafeMutablePointer<VipsImage>?
            guard masthead_vips_load_buffer(bytes.baseAddress, bytes.count, &image) == 0, let image else {
                throw ImageRejection(.damaged, "the image is damaged or truncated: \(Vips.lastError())")
            }
            defer { masthead_vips_unref(image) }
            return try encode(image, format: format == .gif ? .png : format, quality: 92)
        }
    }

    /// Whether encoded image bytes still carry metadata that could reveal a place, time, camera or
    /// person (GPS, camera make and model, dates, XMP, IPTC…).
    public static func hasMetadata(_ data: Data) -> Bool {
        try? Vips.start()
        return data.withUnsafeBytes { masthead_vips_buffer_has_metadata($0.baseAddress, $0.count) } == 1
    }

    /// Width, height and band count of encoded image bytes.
    public static func header(of data: Data) -> (width: Int, height: Int, bands: Int)? {
        try? Vips.start()
        var width: Int32 = 0
        var height: Int32 = 0
        var bands: Int32 = 0
        let status = data.withUnsafeBytes { masthead_vips_buffer_header($0.baseAddress, $0.count, &width, &height, &bands) }
        return status == 0 ? (Int(width), Int(height), Int(bands)) : nil
    }
}
