// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Masthead",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "masthead", targets: ["masthead"]),
        .executable(name: "masthead-fuzz", targets: ["masthead-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // C libraries from Debian, each behind a small shim.
        .systemLibrary(name: "CCmarkGFM", pkgConfig: "libcmark-gfm", providers: [.apt(["libcmark-gfm-dev", "libcmark-gfm-extensions-dev"])]),
        .systemLibrary(name: "CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),

        .target(
            name: "MastheadCore",
            dependencies: ["CCmarkGFM", "CLibXML2", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "MastheadStorage",
            dependencies: [
                "MastheadCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "MastheadForms",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .target(
            name: "MastheadRendering",
            dependencies: ["MastheadCore", "MastheadImaging", .product(name: "Mustache", package: "swift-mustache")]
        ),
        .target(
            name: "MastheadImaging",
            dependencies: ["CVips"]
        ),
        .target(
            name: "MastheadTips",
            dependencies: [
                "MastheadCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "MastheadApp",
            dependencies: [
                "MastheadCore", "MastheadStorage", "MastheadRendering", "MastheadImaging", "MastheadTips", "MastheadForms",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "masthead",
            dependencies: ["MastheadApp", "MastheadStorage", "MastheadImaging", "MastheadTips", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Fuzz targets for the parsers that read what strangers send (see `make fuzz`).
        .target(
            name: "MastheadFuzzing",
            dependencies: ["MastheadCore", "MastheadForms", "MastheadImaging", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .executableTarget(name: "masthead-fuzz", dependencies: ["MastheadFuzzing"]),
        .target(
            name: "MastheadTesting",
            dependencies: ["MastheadApp", "MastheadImaging", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(name: "MastheadCoreTests", dependencies: ["MastheadCore", "MastheadTesting"]),
        .testTarget(name: "MastheadStorageTests", dependencies: ["MastheadStorage", "MastheadTesting"]),
        .testTarget(name: "MastheadFuzzingTests", dependencies: ["MastheadFuzzing"], resources: [.copy("Regressions")]),
        .testTarget(name: "MastheadImagingTests", dependencies: ["MastheadImaging", "MastheadTesting"]),
        .testTarget(name: "MastheadRenderingTests", dependencies: ["MastheadRendering", .product(name: "Mustache", package: "swift-mustache")]),
        .testTarget(
            name: "MastheadTipsTests",
            dependencies: ["MastheadTips", "MastheadImaging", "MastheadTesting"],
            resources: [.copy("rfc9180-base-x25519-sha256-chacha20poly1305.json")]
        ),
        .testTarget(
            name: "MastheadAppTests",
            dependencies: ["MastheadApp", "MastheadTesting", "MastheadRendering", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
