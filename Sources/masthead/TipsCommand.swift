import ArgumentParser
import Foundation
import MastheadApp
import MastheadCore
import MastheadStorage
import MastheadTips

struct TipsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tips",
        abstract: "The confidential tip line's key, and reading tips offline.",
        subcommands: [Keygen.self, Export.self, Open.self])

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the newsroom's tip key pair.",
            discussion: """
                The public key is stored in the site's database: tips are sealed to it. The private key is written to \
                --out (default: masthead-tip-key.txt, never overwritten): move it to an offline computer. With \
                --store-protected, the private key is also stored in the database sealed under a passphrase (read like \
                'user add' reads passwords; scrypt, 128 MiB per guess), so editors can unlock the tip inbox in the browser. \
                A new key replaces the old one for new tips; keep the old private key to read older ones.
                """)

        @OptionGroup var options: GlobalOptions

        @Option(help: ArgumentHelp("Where to write the private key file.", valueName: "file"))
        var out = "masthead-tip-key.txt"

        @Flag(help: "Also keep the private key in the database, sealed under a passphrase.")
        var storeProtected = false

        @Flag(help: "With --store-protected: write no private key file.")
        var noFile = false

        func run() async throws {
            let (configuration, logger) = try await reportingErrors { try await options.load() }
            let writeFile = !(storeProtected && noFile)
            if writeFile, FileManager.default.fileExists(atPath: out) {
                FileHandle.standardError.write(Data("masthead: error: \(out) exists already; move it away or name another file with --out\n".utf8))
                throw ExitCode.failure
            }
            let key = TipCrypto.PrivateKey()
            var protected: Data?
            if storeProtected {
                let passphrase = try readPassword()
                protected = try TipCrypto.protect(key, passphrase: passphrase)
            }
            if writeFile {
                guard FileManager.default.createFile(atPath: out, contents: Data(TipCrypto.privateKeyFile(key).utf8), attributes: [.posixPermissions: 0o600]) else {
                    FileHandle.standardError.write(Data("masthead: error: cannot write \(out)\n".utf8))
                    throw ExitCode.failure
                }
            }
            try await withSite(configuration, logger) { site in
                try await site.store.setTipKey(publicKey: key.publicKey.rawRepresentation, protectedPrivateKey: protected, day: TipLine.day(.now))
            }
            print("The tip line is open: tips are sealed to the new key.")
            if writeFile { print("Private key written to \(out). Keep it offline; without it (or the passphrase) no tip can be read.") }
            if storeProtected { print("The private key is also stored sealed under your passphrase: editors unlock it in the tip inbox.") }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every tip, still sealed, to a file for reading offline with 'tips open'.")

        @OptionGroup var options: GlobalOptions

        @Option(help: ArgumentHelp("The export file (JSON).", valueName: "file"))
        var out: String

        func run() async throws {
            let (configuration, logger) = try await reportingErrors { try await options.load() }
            let count = try await withSite(configuration, logger) { site in
                let export = try await TipExport.make(from: site.store)
                try JSONEncoder().encode(export).write(to: URL(fileURLWithPath: out))
                return export.threads.count
            }
            print("Wrote \(count) sealed tip\(count == 1 ? "" : "s") to \(out).")
        }
    }

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decrypt tips with the private key file: from an export file (offline) or the site's database.",
            discussion: "Messages are printed; attachments are written to --files (default: tip-files/).")

        @OptionGroup var options: GlobalOptions

        @Option(help: ArgumentHelp("The private key file from 'tips keygen'.", valueName: "file"))
        var key: String

        @Option(name: .customLong("from"), help: ArgumentHelp("An export file from 'tips export' (instead of the database).", valueName: "file"))
        var exportFile: String?

        @Option(help: ArgumentHelp("Folder for attachments.", valueName: "folder"))
        var files = "tip-files"

        func run() async throws {
            let privateKey: TipCrypto.PrivateKey
            do {
                privateKey = try TipCrypto.privateKey(fromFile: try String(contentsOfFile: key, encoding: .utf8))
            } catch let error as TipCryptoError {
                FileHandle.standardError.write(Data("masthead: error: \(key): \(error.description)\n".utf8))
                throw ExitCode.failure
            } catch {
                FileHandle.standardError.write(Data("masthead: error: \(key) cannot be read\n".utf8))
                throw ExitCode.failure
            }
            let export: TipExport
            if let exportFile {
                guard let data = FileManager.default.contents(atPath: exportFile), let decoded = try? JSONDecoder().decode(TipExport.self, from: data) else {
                    FileHandle.standardError.write(Data("masthead: error: \(exportFile) is not a tip export\n".utf8))
                    throw ExitCode.failure
                }
                export = decoded
            } else {
                let (configuration, logger) = try await reportingErrors { try await options.load() }
                export = try await withSite(configuration, logger) { try await TipExport.make(from: $0.store) }
            }
            var opened = 0
            for thread in export.threads {
                for (index, message) in thread.messages.enumerated() {
                    let content: TipContent
                    do {
                        content = try TipContent.opened(message.box, with: privateKey, context: TipContent.context(thread: thread.lookup))
                    } catch let error as TipCryptoError {
                        FileHandle.standardError.write(Data("masthead: error: tip \(thread.id), message \(index + 1): \(error.description)\n".utf8))
                        throw ExitCode.failure
                    }
                    opened += 1
                    print("== Tip \(thread.id), received \(thread.receivedDay) — message \(index + 1) (\(message.fromSource ? "from the source" : "our reply"), \(message.day))")
                    // What sources write is shown, never obeyed by the terminal.
                    print(TerminalText.safe(content.text))
                    if !content.contact.isEmpty { print("Contact: \(TerminalText.safe(content.contact))") }
                    for (number, file) in content.attachments.enumerated() {
                        let folder = "\(files)/tip-\(thread.id)"
                        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                        let path = "\(folder)/\(index + 1)-\(number + 1)-\(file.name)"
                        try file.data.write(to: URL(fileURLWithPath: path))
                        print("Attachment: \(TerminalText.safe(path))\(file.metadataRemoved ? " (image; metadata removed)" : " (kept as sent; may carry metadata)")")
                    }
                    print("")
                }
            }
            print("Opened \(opened) message\(opened == 1 ? "" : "s").")
        }
    }
}

/// Every thread with its sealed messages: what 'tips export' writes and 'tips open' reads.
struct TipExport: Codable {
    struct Thread: Codable {
        var id: Int64
        var lookup: String
        var receivedDay: String
        var messages: [Message]
    }

    struct Message: Codable {
        var fromSource: Bool
        var day: String
        var box: Data
    }

    var threads: [Thread]

    static func make(from store: Store) async throws -> TipExport {
        var threads: [Thread] = []
        for thread in try await store.tipThreads(includeArchived: true) {
            let messages = try await store.tipMessages(threadID: thread.id).map { Message(fromSource: $0.fromSource, day: $0.day, box: $0.newsroomBox) }
            threads.append(Thread(id: thread.id, lookup: thread.lookupHash, receivedDay: thread.receivedDay, messages: messages))
        }
        return TipExport(threads: threads)
    }
}
