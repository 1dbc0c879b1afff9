import Foundation

/// Where the files Masthead ships with (the default theme, the newsroom's templates and assets,
/// the demo newsroom) are found. A relative folder is looked for in the current folder first (a
/// source checkout, or a site that keeps its own theme beside its configuration), then in the
/// installed share folder next to the binary: `PREFIX/share/masthead/` for `PREFIX/bin/masthead`,
/// which `make install PREFIX=…` fills. So `masthead serve` works from any folder.
public enum InstalledFiles {
    /// `path` as given when it is absolute or exists here; else the installed copy when there is
    /// one; else `path` unchanged (the error that follows names it).
    public static func locate(_ path: String) -> String {
        let manager = FileManager.default
        guard !path.hasPrefix("/"), !manager.fileExists(atPath: path), let share = shareDirectory else { return path }
        let installed = share + "/" + path
        return manager.fileExists(atPath: installed) ? installed : path
    }

    /// `PREFIX/share/masthead` for the running binary at `PREFIX/bin/masthead`, when it exists.
    public static let shareDirectory: String? = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? Bundle.main.executablePath ?? CommandLine.arguments.first ?? ""
        let prefix = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
        let share = prefix.appendingPathComponent("share/masthead").path
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: share, isDirectory: &isFolder) && isFolder.boolValue ? share : nil
    }()
}
