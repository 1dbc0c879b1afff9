import ArgumentParser
import Foundation
import Logging
import MastheadCore
import MastheadStorage

struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Work on a site's database as a whole.", subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a whole site from one database to another (SQLite to PostgreSQL, or back).",
            discussion: """
                The source must be at this version's schema (run 'masthead migrate' on it first); the target is \
                brought to it. The target must be new and empty \
                (a PostgreSQL database just created, or an SQLite file that does not exist yet): anything else \
                is refused. Every table is copied in one transaction, and it is committed only when each table's \
                row count and content checksum read back from the target match the source; the search index is \
                built anew. Stop the server (and imports) on the source first, so nothing changes while it is read. \
                Media files are not in the database: copy the media folder as well (see docs/deployment.md).
                Example: masthead db copy --from sqlite:///srv/news/data/masthead.sqlite \
                --to postgres://masthead:secret@db.internal/masthead?sslmode=require
                """)

        @Option(name: .long, help: ArgumentHelp("The site's database now (sqlite:///… or postgres://…).", valueName: "url"))
        var from: String

        @Option(name: .long, help: ArgumentHelp("The new, empty database (sqlite:///… or postgres://…).", valueName: "url"))
        var to: String

        func run() async throws {
            bootstrapLogging
            var logger = Logger(label: "masthead")
            logger.logLevel = .warning
            let (sourceURL, targetURL) = try await reportingErrors {
                (try DatabaseURL(parsing: from), try DatabaseURL(parsing: to))
            }
            guard sourceURL != targetURL else {
                FileHandle.standardError.write(Data("masthead: error: --from and --to name the same database\n".utf8))
                throw ExitCode.failure
            }
            let source = try await reportingErrors { try await Store.open(sourceURL, logger: logger) }
            let target: Store
            do {
                target = try await reportingErrors { try await Store.open(targetURL, logger: logger) }
            } catch {
                await source.close()
                throw error
            }
            do {
                let meter = ProgressMeter(noun: "rows", verb: ("copying", "copied"))
                let tables = try await reportingErrors {
                    try await target.migrate()
                    return try await DatabaseCopy(from: source, to: target).run { meter.update($0, of: $1) }
                }
                meter.finish()
                for table in tables where table.rows > 0 {
                    print("\(table.name): \(table.rows) rows, sha256 \(table.checksum.prefix(16))… (same in both)")
                }
                print("Copied \(tables.map(\.rows).reduce(0, +)) rows in \(tables.count) tables from \(sourceURL) to \(targetURL).")
                await source.close()
                await target.close()
            } catch {
                await source.close()
                await target.close()
                throw error
            }
        }
    }
}
