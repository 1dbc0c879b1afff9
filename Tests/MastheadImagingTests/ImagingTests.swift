import Foundation
import MastheadImaging
import MastheadTesting
import Testing

@Suite struct ImagingTests {
    @Test func variantsHaveOneSpelling() {
        #expect(ImageVariant(parsing: "w800")?.width == 800)
        let full = ImageVariant(parsing: "w800-h450-cover-gsmart-dpr2-q60")
        #expect(full == ImageVariant(width: 800, height: 450, fit: .cover, gravity: .smart, dpr: 2, quality: 60))
        #expect(full?.description == "w800-h450-cover-gsmart-dpr2-q60")
        for bad in ["", "w0", "w5000", "h450-w800", "w800-q75", "w800-contain", "w800-dpr4", "w800-q0", "w800-x", "w800--q60", "cover-w800"] {
            #expect(ImageVariant(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func formatsAreKnownByTheirBytesNotTheirNames() {
        #expect(ImageFormat.sniff([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(ImageFormat.sniff(Array("GIF89a".utf8)) == .gif)
        #expect(ImageFormat.sniff(Array("RIFF\0\0\0\0WEBPVP8 ".utf8)) == .webp)
        #expect(ImageFormat.sniff(Array("\0\0\0\u{1C}ftypavif".utf8)) == .avif)
        #expect(ImageFormat.sniff(Array("<svg xmlns=".utf8)) == nil)
        #expect(ImageFormat.sniff(Array("%PDF-1.7".utf8)) == nil)
    }

    @Test func resizesWithoutEnlargingAndCropsToCover() async throws {
        try await withTestSite { test in
            let path = try test.writeJPEG("photo.jpg", width: 1600, height: 900)
            let source = try SourceImage.inspect(path)
            #expect(source.format == .jpeg && source.width == 1600 && source.height == 900 && !source.hasAlpha)

            let small = try ImageRenderer.render(source, variant: ImageVariant(width: 400), format: .webp)
            #expect(ImageFormat.sniff(small.data) == .webp)
            #expect((small.width, small.height) == (400, 225))

            let square = try ImageRenderer.render(source, variant: ImageVariant(width: 300, height: 300, fit: .cover, gravity: .smart), format: .jpeg)
            #expect(ImageRenderer.header(of: square.data).map { ($0.width, $0.height) } ?? (0, 0) == (300, 300))

            let retina = try ImageRenderer.render(source, variant: ImageVariant(width: 300, dpr: 2), format: .jpeg)
            #expect(retina.width == 600)

            let huge = try ImageRenderer.render(source, variant: ImageVariant(width: 4000), format: .jpeg)
            #expect(huge.width == 1600, "never enlarged")

            if ImageRenderer.canWriteAVIF {
                let avif = try ImageRenderer.render(source, variant: ImageVariant(width: 800), format: .avif)
                #expect(ImageFormat.sniff(avif.data) == .avif)
                #expect(!ImageRenderer.hasMetadata(avif.data))
            }
        }
    }

    @Test func transparencySurvivesWhenJPEGIsAskedFor() async throws {
        try await withTestSite { test in
            let path = test.directory + "/alpha.png"
            try PNGWriter.image(width: 64, height: 32) { x, y in [UInt8(x * 4), UInt8(y * 8), 100, x < 32 ? 0 : 255] }
                .write(to: URL(fileURLWithPath: path))
            let source = try SourceImage.inspect(path)
            #expect(source.hasAlpha)
            let out = try ImageRenderer.render(source, variant: ImageVariant(width: 32), format: .jpeg)
            #expect(out.format == .png)
            #expect(ImageRenderer.header(of: out.data)?.bands == 4)
        }
    }

    @Test func badInputIsRefusedBeforeDecoding() async throws {
        try await withTestSite { test in
            let svg = try test.write(#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>"#, to: "logo.svg")
            #expect { try SourceImage.inspect(svg) } throws: { ($0 as? ImageRejection)?.reason == .unsupportedType }

            let bomb = test.directory + "/bomb.png"
            try PNGWriter.bomb(width: 60_000, height: 60_000).write(to: URL(fileURLWithPath: bomb))
            #expect { try SourceImage.inspect(bomb) } throws: { ($0 as? ImageRejection)?.reason == .tooLarge }

            let jpeg = try test.writeJPEG("real.jpg", width: 800, height: 600)
            let renamed = test.directory + "/real.png"
            try FileManager.default.copyItem(atPath: jpeg, toPath: renamed)
            #expect { try SourceImage.inspect(renamed, checkExtension: true) } throws: { ($0 as? ImageRejection)?.reason == .wrongExtension }
            #expect(throws: Never.self) { try SourceImage.inspect(renamed) }

            #expect { try SourceImage.inspect(jpeg, limits: ImageLimits(maxBytes: 100)) } throws: { ($0 as? ImageRejection)?.reason == .tooLarge }
            #expect { try SourceImage.inspect(jpeg, limits: ImageLimits(maxPixels: 1000)) } throws: { ($0 as? ImageRejection)?.reason == .tooLarge }
            #expect { try SourceImage.inspect(test.directory + "/none.jpg") } throws: { ($0 as? ImageRejection)?.reason == .missing }

            let whole = try Data(contentsOf: URL(fileURLWithPath: jpeg))
            let truncated = test.directory + "/truncated.jpg"
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: truncated))
            #expect {
                let source = try SourceImage.inspect(truncated)
                _ = try ImageRenderer.render(source, variant: ImageVariant(width: 200), format: .jpeg)
            } throws: { ($0 as? ImageRejection)?.reason == .damaged }
        }
    }

    @Test func placeholdersAreTinyDataURLs() async throws {
        try await withTestSite { test in
            let source = try SourceImage.inspect(try test.writeJPEG("p.jpg", width: 1600, height: 900))
            let placeholder = try ImageRenderer.placeholder(source)
            #expect(placeholder.hasPrefix("data:image/jpeg;base64,"))
            #expect(placeholder.count < 1500)
        }
    }
}

