import Foundation
import MastheadCore
import MastheadImaging
import MastheadStorage
import Yams

/// The demo newsroom shipped in `Demo/`: sections in order, authors with biographies, standing
/// pages, articles with generated featured images, and a correction.
public struct DemoContent: Sendable {
    /// The folder holding `site.yaml`, `articles/` and `pages/`.
    public var directory: String

    public init(directory: String = "Demo") {
        self.directory = InstalledFiles.locate(directory)
    }

    private struct Manifest: Decodable {
        struct CorrectionNote: Decodable {
            var article: String
            var kind: String
            var text: String
            var hoursAfterPublication: Double

            enum CodingKeys: String, CodingKey {
                case article, kind, text
                case hoursAfterPublication = "hours_after_publication"
            }
        }
        var sections: [String]
        var authors: [ContentImporter.SiteManifest.Author]
        var corrections: [CorrectionNote]
    }

    /// Loads the demo into `site`'s store. Returns the imported articles.
    public func load(into importer: ContentImporter) async throws -> [ImportedArticle] {
        let manifestPath = directory + "/site.yaml"
        let manifest: Manifest
        do {
            manifest = try YAMLDecoder().decode(Manifest.self, from: try String(contentsOfFile: manifestPath, encoding: .utf8))
        } catch {
            throw MastheadError(.invalidInput, "cannot read the demo manifest: \(error)", location: .init(file: manifestPath))
        }
        let store = importer.store
        try await importer.apply(ContentImporter.SiteManifest(sections: manifest.sections, authors: manifest.authors))
        _ = try await importer.importPages(from: [directory + "/pages"])

        // Articles and their pictures go to a scratch folder, so the pictures are made fresh
        // and the demo folder stays as it is in the repository.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-demo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for file in try ContentImporter.markdownFiles(in: [directory + "/articles"]) {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let source = try ArticleSource.parse(text, file: file, timeZone: importer.site.timeZone)
            if let image = source.image, !image.contains("/") {
                let palette = DemoArtwork.Palette.forSection(source.sectionName)
                let jpeg = try DemoArtwork.paint(seed: image, palette: palette, width: 1600, height: 900)
                try jpeg.write(to: URL(fileURLWithPath: scratch + "/" + image))
            }
            try text.write(toFile: scratch + "/" + (file as NSString).lastPathComponent, atomically: true, encoding: .utf8)
        }
        let imported = try await importer.importArticles(from: [scratch])
        for note in manifest.corrections {
            guard let article = try await store.article(slug: note.article) else {
                throw MastheadError(.invalidInput, "correction for unknown article '\(note.article)'", location: .init(file: manifestPath))
            }
            try await store.addCorrection(
                articleSlug: note.article, kind: Correction.Kind(rawValue: note.kind) ?? .correction, text: note.text,
                at: article.publishedAt.addingTimeInterval(note.hoursAfterPublication * 3600))
        }
        return imported
    }
}

/// Paints the demo's featured images: a landscape of sky, sun and hills in a section's colours,
/// different for every seed. Real JPEGs, so the image pipeline treats them as photographs.
enum DemoArtwork {
    struct Palette {
        var skyTop: (Double, Double, Double)
        var skyBottom: (Double, Double, Double)
        var near: (Double, Double, Double)
        var far: (Double, Double, Double)
        var sun: (Double, Double, Double)

        static func forSection(_ name: String) -> Palette {
            switch Slug.make(from: name) {
            case "world": return Palette(skyTop: (40, 90, 160), skyBottom: (240, 200, 150), near: (30, 60, 50), far: (80, 110, 120), sun: (255, 220, 140))
            case "politics": return Palette(skyTop: (70, 40, 90), skyBottom: (230, 150, 120), near: (40, 30, 50), far: (110, 80, 110), sun: (255, 190, 120))
            case "business": return Palette(skyTop: (20, 60, 80), skyBottom: (170, 210, 220), near: (20, 40, 55), far: (70, 110, 130), sun: (250, 250, 220))
            case "technology": return Palette(skyTop: (10, 20, 50), skyBottom: (60, 120, 170), near: (10, 30, 40), far: (40, 80, 110), sun: (140, 230, 250))
            case "science": return Palette(skyTop: (20, 70, 60), skyBottom: (200, 230, 190), near: (30, 70, 40), far: (90, 140, 100), sun: (255, 250, 200))
            default: return Palette(skyTop: (120, 60, 30), skyBottom: (250, 210, 160), near: (70, 40, 30), far: (150, 100, 70), sun: (255, 240, 200))
            }
        }
    }

    static func paint(seed: String, palette: Palette, width: Int, height: Int) throws -> Data {
        var random = SeededRandom(seed: seed)
        let sunX = Double(width) * random.next(in: 0.15...0.85)
        let sunY = Double(height) * random.next(in: 0.12...0.4)
        let sunRadius = Double(height) * random.next(in: 0.06...0.11)
        let far = (phase: random.next(in: 0...6.28), frequency: random.next(in: 1.5...3.5), base: random.next(in: 0.45...0.58))
        let near = (phase: random.next(in: 0...6.28), frequency: random.next(in: 2.5...5.0), base: random.next(in: 0.68...0.8))
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var farLine = [Double](repeating: 0, count: width)
        var nearLine = [Double](repeating: 0, count: width)
        for x in 0..<width {
            let u = Double(x) / Double(width)
            farLine[x] = Double(height) * (far.base + 0.07 * sin(u * far.frequency * 6.28 + far.phase) + 0.02 * sin(u * 23 + far.phase))
            nearLine[x] = Double(height) * (near.base + 0.05 * sin(u * near.frequency * 6.28 + near.phase) + 0.015 * sin(u * 41 + near.phase))
        }
        for y in 0..<height {
            let v = Double(y) / Double(height)
            let sky = mix(palette.skyTop, palette.skyBottom, min(1, v * 1.4))
            for x in 0..<width {
                var colour = sky
                let dx = Double(x) - sunX
                let dy = Double(y) - sunY
                let distance = (dx * dx + dy * dy).squareRoot()
                if distance < sunRadius * 3 {
                    let glow = distance < sunRadius ? 1 : pow(1 - (distance - sunRadius) / (sunRadius * 2), 2) * 0.5
                    colour = mix(colour, palette.sun, glow)
                }
                let yy = Double(y)
                if yy > nearLine[x] {
                    colour = mix(palette.near, (0, 0, 0), min(0.5, (yy - nearLine[x]) / Double(height)))
                } else if yy > farLine[x] {
                    colour = mix(palette.far, sky, 0.25)
                }
                let grain = Double((x &* 7919 &+ y &* 104_729) % 13) - 6
                let offset = (y * width + x) * 3
                pixels[offset] = clamp(colour.0 + grain)
                pixels[offset + 1] = clamp(colour.1 + grain)
                pixels[offset + 2] = clamp(colour.2 + grain)
            }
        }
        return try JPEGEncoder.encode(rgb: pixels, width: width, height: height, quality: 84)
    }

    private static func mix(_ a: (Double, Double, Double), _ b: (Double, Double, Double), _ t: Double) -> (Double, Double, Double) {
        (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, a.2 + (b.2 - a.2) * t)
    }

    private static func clamp(_ value: Double) -> UInt8 { UInt8(max(0, min(255, value))) }
}

/// A small deterministic generator (SplitMix64) so each demo picture is the same on every machine.
struct SeededRandom {
    private var state: UInt64

    init(seed: String) {
        state = seed.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func next(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * Double(next() >> 11) / Double(1 << 53)
    }
}
