import Foundation
import MastheadCore
import MastheadImaging
import MastheadStorage

/// Stores uploaded images: checked from their bytes (never from their name or declared type)
/// against the site's limits, decoded once to prove they are whole, then filed under
/// `uploads/YYYY/MM/` in the media folder and recorded in the library. Nothing is left behind
/// when any step fails.
public struct MediaLibrary: Sendable {
    let store: Store
    let mediaDirectory: String
    let limits: ImageLimits

    public init(store: Store, mediaDirectory: String, limits: ImageLimits) {
        self.store = store
        self.mediaDirectory = mediaDirectory
        self.limits = limits
    }

    public func upload(_ data: Data, filename: String, alt: String, caption: String, credit: String, by user: User, now: Date = .now) async throws -> MediaItem {
        guard !data.isEmpty else {
            throw MastheadError(.invalidInput, "the file is empty", location: .init(field: "file"))
        }
        guard data.count <= limits.maxBytes else {
            throw MastheadError(
                .invalidInput, "the file is \(Self.megabytes(data.count)); images may be at most \(Self.megabytes(limits.maxBytes))",
                location: .init(field: "file"))
        }
        guard let sniffed = ImageFormat.sniff(data.prefix(64)) else {
            throw MastheadError(
                .invalidInput, "“\(filename)” is not a JPEG, PNG, WebP, AVIF or GIF image (judged from its contents, not its name)",
                location: .init(field: "file"))
        }
        let filename = filename.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "image." + sniffed.fileExtension : filename
        // Originals are public under /media/: a phone photo's GPS position, camera and times are
        // removed (re-encoded at high quality, turned upright) before the file is kept.
        var data = data
        var format = sniffed
        if ImageRenderer.hasMetadata(data) {
            // Decoded only when the header's size is within the limits.
            guard let header = ImageRenderer.header(of: data), header.width * header.height <= limits.maxPixels,
                  max(header.width, header.height) <= limits.maxDimension else {
                throw MastheadError(.invalidInput, "“\(filename)” refused: it is too large or cannot be read", location: .init(field: "file"))
            }
            do {
                let cleaned = try ImageRenderer.withoutMetadata(data)
                data = cleaned.data
                format = cleaned.format
            } catch let rejection as ImageRejection {
                throw MastheadError(.invalidInput, "“\(filename)” refused: \(rejection.message)", location: .init(field: "file"))
            }
        }
        let manager = FileManager.default
        let incoming = mediaDirectory + "/.incoming"
        try manager.createDirectory(atPath: incoming, withIntermediateDirectories: true)
        let temporary = incoming + "/" + UUID().uuidString + "." + format.fileExtension
        guard manager.createFile(atPath: temporary, contents: data) else {
            throw MastheadError(.storage, "cannot write into the media folder \(mediaDirectory)")
        }
        var final: String?
        do {
            let image: SourceImage
            let placeholder: String
            do {
                image = try SourceImage.inspect(temporary, limits: limits)
                placeholder = try ImageRenderer.placeholder(image)
            } catch let rejection as ImageRejection {
                throw MastheadError(.invalidInput, "“\(filename)” refused: \(rejection.message)", location: .init(field: "file"))
            }
            let calendar = Calendar(identifier: .gregorian)
            let parts = calendar.dateComponents(in: TimeZone(identifier: "UTC")!, from: now)
            let base = Slug.make(from: (filename as NSString).deletingPathExtension, maxLength: 60)
            let relative = String(format: "uploads/%04d/%02d/", parts.year ?? 2000, parts.month ?? 1)
                + base + "-" + SecretToken.make(bytes: 4).lowercased().filter { $0.isLetter || $0.isNumber } + "." + format.fileExtension
            let destination = mediaDirectory + "/" + relative
            try manager.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try manager.moveItem(atPath: temporary, toPath: destination)
            final = destination
            return try await store.addMedia(
                NewMedia(
                    path: relative, originalName: String(filename.prefix(200)), format: format.rawValue, width: image.width, height: image.height,
                    bytes: data.count, alt: alt, caption: caption, credit: credit, placeholder: placeholder),
                uploadedBy: user.id, now: now)
        } catch {
            try? manager.removeItem(atPath: temporary)
            if let final { try? manager.removeItem(atPath: final) }
            throw error
        }
    }

    /// Deletes a library item and its file (refused while an article features it).
    func delete(id: Int64) async throws {
        let path = try await store.deleteMedia(id: id)
        try? FileManager.default.removeItem(atPath: mediaDirectory + "/" + path)
    }

    static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_048_576)
    }
}
