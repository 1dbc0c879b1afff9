import ArgumentParser
import Foundation
import MastheadApp
import MastheadCore
import MastheadStorage

#if canImport(Glibc)
import Glibc
#endif

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage newsroom accounts.",
        subcommands: [Add.self, ResetPassword.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account.",
            discussion: """
                The password is read from standard input when it is not a terminal (echo 'pass phrase' | masthead user add …), \
                and asked for without echo when it is. With --invite no password is set: a one-time link is printed instead \
                for the person to choose one (valid 7 days). The first account may be the owner; there is only one owner.
                """)

        @OptionGroup var options: GlobalOptions

        @Option(help: "The person's email address (their sign-in name).")
        var email: String

        @Option(help: "The name bylines show.")
        var name: String

        @Option(help: "owner, admin, editor, author or contributor.")
        var role: String = "author"

        @Flag(help: "Print a one-time link to choose a password instead of reading one.")
        var invite = false

        func run() async throws {
            let (configuration, logger) = try await reportingErrors { try await options.load() }
            guard let role = Role(rawValue: role.lowercased()) else {
                FileHandle.standardError.write(Data("masthead: error: --role '\(self.role)' is not one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
                throw ExitCode.failure
            }
            let password = invite ? nil : try readPassword()
            try await withSite(configuration, logger) { site in
                let accounts = Accounts(store: site.store, policy: configuration.signIn, keys: site.keys, logger: logger)
                let hash = try await password.asyncMap { try await accounts.hash(password: $0) }
                let user = try await site.store.addUser(email: email, name: name, role: role, passwordHash: hash)
                if invite {
                    let token = try await site.store.createUserToken(userID: user.id, purpose: "invite", lifetime: 7 * 86_400)
                    print(configuration.site.absoluteURL("/admin/set-password/\(token)/"))
                } else {
                    print("Added \(user.email) as \(user.role.rawValue). Sign in at \(configuration.site.absoluteURL("/admin/"))")
                }
            }
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set a new password for an account (read like 'user add'), or print a reset link with --link.",
            discussion: "Every session of the account ends and its failed sign-ins are forgotten, which also lifts a lock.")

        @OptionGroup var options: GlobalOptions

        @Option(help: "The account's email address.")
        var email: String

        @Flag(help: "Print a one-time link (valid 24 hours) instead of reading a password.")
        var link = false

        func run() async throws {
            let (configuration, logger) = try await reportingErrors { try await options.load() }
            let password = link ? nil : try readPassword()
            try await withSite(configuration, logger) { site in
                guard let user = try await site.store.user(email: email) else {
                    throw MastheadError(.notFound, "there is no account for \(email)", location: .init(field: "email"))
                }
                if let password {
                    try await Accounts(store: site.store, policy: configuration.signIn, keys: site.keys, logger: logger).setPassword(password, for: user.id)
                    print("New password set for \(user.email).")
                } else {
                    try await site.store.clearLoginFailures(email: user.email)
                    // Its sessions and API keys end now: a reset means the account may be in other hands.
                    let token = try await site.store.resetAccess(userID: user.id, lifetime: 86_400)
                    print(configuration.site.absoluteURL("/admin/set-password/\(token)/"))
                }
            }
        }
    }
}

/// A password from standard input: the first line when piped, typed without echo at a terminal.
func readPassword() throws -> String {
    var password: String?
    if isatty(STDIN_FILENO) != 0 {
        FileHandle.standardError.write(Data("Password (at least 12 characters): ".utf8))
        var settings = termios()
        tcgetattr(STDIN_FILENO, &settings)
        var silent = settings
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        password = readLine(strippingNewline: true)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &settings)
        FileHandle.standardError.write(Data("\n".utf8))
    } else {
        password = readLine(strippingNewline: true)
    }
    guard let password, !password.isEmpty else {
        FileHandle.standardError.write(Data("masthead: error: no password given on standard input (or use --invite / --link)\n".utf8))
        throw ExitCode.failure
    }
    if let problem = User.passwordProblem(password) {
        FileHandle.standardError.write(Data("masthead: error: \(problem)\n".utf8))
        throw ExitCode.failure
    }
    return password
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
