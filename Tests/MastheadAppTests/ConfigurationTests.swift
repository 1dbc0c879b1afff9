import Foundation
import MastheadApp
import MastheadCore
import MastheadStorage
import Testing

@Suite struct ConfigurationTests {
    func withFile(_ text: String, _ body: (String) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await body(path)
    }

    @Test func defaultsServeFromDataOnLocalhost() async throws {
        let configuration = try await AppConfiguration.load(file: nil, environment: [:])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.dataDirectory == "data")
        #expect(configuration.database == .sqlite(path: "data/masthead.sqlite"))
        #expect(configuration.site.baseURL == "http://127.0.0.1:8080")
        #expect(configuration.themeDirectory == "Themes/default")
    }

    @Test func fileThenEnvironmentThenCommandLineEachOverride() async throws {
        try await withFile("""
            title: The Valley Herald
            base_url: https://news.example.org/
            time_zone: Europe/Berlin
            port: 9000
            host: 0.0.0.0
            disclaimer: Columnists speak for themselves.
            tip_prompt: Know something?
            data_dir: /srv/herald
            trust_html: true
            """) { path in
            let fromFile = try await AppConfiguration.load(file: path, environment: [:])
            #expect(fromFile.site.title == "The Valley Herald")
            #expect(fromFile.site.baseURL == "https://news.example.org")
            #expect(fromFile.site.timeZone.identifier == "Europe/Berlin")
            #expect(fromFile.port == 9000)
            #expect(fromFile.site.disclaimer == "Columnists speak for themselves.")
            #expect(fromFile.site.tipPrompt == "Know something?")
            #expect(fromFile.database == .sqlite(path: "/srv/herald/masthead.sqlite"))
            #expect(fromFile.trustsHTML)

            let environment = [
                "MASTHEAD_PORT": "9100", "MASTHEAD_BASE_URL": "https://herald.example", "MASTHEAD_DATA_DIR": "/var/herald",
                "MASTHEAD_DATABASE_URL": "sqlite:///var/db/herald.sqlite", "MASTHEAD_HOST": "127.0.0.2",
            ]
            let fromEnvironment = try await AppConfiguration.load(file: path, environment: environment)
            #expect(fromEnvironment.port == 9100)
            #expect(fromEnvironment.host == "127.0.0.2")
            #expect(fromEnvironment.site.baseURL == "https://herald.example")
            #expect(fromEnvironment.dataDirectory == "/var/herald")
            #expect(fromEnvironment.database == .sqlite(path: "/var/db/herald.sqlite"))
            #expect(fromEnvironment.site.title == "The Valley Herald")

            let fromCommandLine = try await AppConfiguration.load(file: path, environment: environment, overrides: ["port": "9200", "host": "127.0.0.3"])
            #expect(fromCommandLine.port == 9200)
            #expect(fromCommandLine.host == "127.0.0.3")
        }
    }

    @Test(arguments: [
        ("MASTHEAD_PORT", "eighty", "port"),
        ("MASTHEAD_PORT", "70000", "port"),
        ("MASTHEAD_TIME_ZONE", "Mars/Olympus", "time_zone"),
        ("MASTHEAD_BASE_URL", "news.example.org", "base_url"),
        ("MASTHEAD_DATABASE_URL", "mysql://db/news", "database_url"),
        ("MASTHEAD_TRUST_HTML", "perhaps", "trust_html"),
        ("MASTHEAD_LOG_LEVEL", "loud", "log_level"),
        ("MASTHEAD_API_CORS_ORIGINS", "app.example.org", "api_cors_origins"),
    ])
    func badValuesNameTheirKey(variable: String, value: String, key: String) async throws {
        await #expect {
            try await AppConfiguration.load(file: nil, environment: [variable: value])
        } throws: { error in
            let error = error as! MastheadError
            return error.location?.field == key && error.code == .configuration
        }
    }

    @Test func aNamedConfigurationFileMustExist() async throws {
        await #expect(throws: MastheadError.self) {
            try await AppConfiguration.load(file: "/nonexistent/masthead.yaml", environment: [:])
        }
    }
}

@Suite struct ClientAddressTests {
    @Test func forwardedAddressesCountOnlyFromTrustedProxies() {
        let trusted: Set<String> = ["127.0.0.1", "10.0.0.2"]
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: "203.0.113.9", trusted: trusted) == "203.0.113.9")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: "198.51.100.1, 203.0.113.9, 10.0.0.2", trusted: trusted) == "203.0.113.9",
                "the nearest hop that is not a trusted proxy; earlier hops can be forged by the client")
        #expect(ClientAddress.resolve(peer: "192.0.2.7", forwardedFor: "203.0.113.9", trusted: trusted) == "192.0.2.7", "an untrusted peer cannot claim another address")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: nil, trusted: trusted) == "127.0.0.1")
    }

    @Test func trustedProxiesMustBeAddresses() async throws {
        let good = try await AppConfiguration.load(file: nil, environment: ["MASTHEAD_TRUSTED_PROXIES": "127.0.0.1, ::1"])
        #expect(good.trustedProxies == ["127.0.0.1", "::1"])
        await #expect(throws: MastheadError.self) {
            _ = try await AppConfiguration.load(file: nil, environment: ["MASTHEAD_TRUSTED_PROXIES": "proxy.example"])
        }
    }
}
