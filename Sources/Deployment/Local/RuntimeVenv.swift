import Canonical
import Foundation

/// The Python environment a local deployment runs in: one venv per set of requirements,
/// built once and shared by every deployment that needs the same lines.
///
/// The venv lives in `ROOT/<first 16 hex of the digest>` (ROOT is `workspace/deploy/venvs`),
/// where the digest is the SHA-256 of the sorted, de-duplicated requirement lines (the
/// serving app's `requirements.txt` and the package's `requirements`), one per line, and
/// the base Python as named (a venv whose interpreter has gone is built again). It is built in a folder of its own and renamed into place
/// only after pip succeeded, with the lines written beside it (`requirements.txt`), so a
/// failed or interrupted build is never taken for a finished one. A venv is relocatable
/// for our use: the app is run as `<venv>/bin/python -m mlpipe_serving`, which finds
/// `pyvenv.cfg` next to its interpreter.
public struct RuntimeVenv: Sendable {
    /// Runs a command (argv) to its end, throwing when it fails: the deploy stage passes
    /// its executor, so pip's output goes to the stage's log and a cancel stops it.
    public typealias CommandRunner = @Sendable (_ argv: [String], _ what: String) async throws -> Void

    /// Where venvs are kept.
    public var root: String
    /// The Python that creates them (`python3` on the PATH by default).
    public var basePython: String

    /// Venvs under `root`, made by `basePython`.
    public init(root: String, basePython: String) {
        self.root = root
        self.basePython = basePython
    }

    /// The requirement lines that decide the venv: comments and blank lines left out,
    /// sorted, each once.
    public static func lines(appRequirements: String, packageRequirements: [String]) -> [String] {
        let app = appRequirements.split(whereSeparator: \.isNewline).map {
            String($0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: .whitespaces)
        }
        return Array(Set((app + packageRequirements.map { $0.trimmingCharacters(in: .whitespaces) })
            .filter { !$0.isEmpty })).sorted()
    }

    /// The venv's folder for `lines`.
    public func folder(for lines: [String]) -> String {
        let text = (["python " + basePython] + lines).joined(separator: "\n") + "\n"
        return root + "/" + String(SHA256Hasher.digest(of: Array(text.utf8)).hex.prefix(16))
    }

    /// The venv's Python for `lines`, building the venv when it is not there yet; `log`
    /// hears whether it was reused or built.
    public func prepare(lines: [String], run: CommandRunner, log: @Sendable (String) -> Void) async throws -> String {
        let folder = folder(for: lines)
        let python = folder + "/bin/python"
        let manager = FileManager.default
        if manager.fileExists(atPath: folder + "/requirements.txt"), manager.isExecutableFile(atPath: python) {
            log("runtime: reusing \(folder) (\(lines.count) requirements)")
            return python
        }
        // A venv whose interpreter has gone (the base Python was removed or upgraded).
        if manager.fileExists(atPath: folder) { try? manager.removeItem(atPath: folder) }
        let building = folder + ".building-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try manager.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw DeploymentError(.files, "cannot create \(root) for the runtime venv: \(error.localizedDescription)",
                                  remedy: "check that the workspace is writable")
        }
        defer { try? manager.removeItem(atPath: building) }
        log("runtime: building \(folder) with \(basePython) (\(lines.count) requirements); once per requirements")
        try await run([basePython, "-m", "venv", building], "create the venv")
        let listing = lines.joined(separator: "\n") + "\n"
        do {
            try Data(listing.utf8).write(to: URL(fileURLWithPath: building + "/requirements.in"))
        } catch {
            throw DeploymentError(.files, "cannot write \(building)/requirements.in: \(error.localizedDescription)",
                                  remedy: "check that the workspace is writable and has space")
        }
        try await run([building + "/bin/python", "-m", "pip", "install", "--no-input", "--disable-pip-version-check",
                       "--only-binary=:all:", "-r", building + "/requirements.in"], "install the runtime's requirements")
        do {
            try Data(listing.utf8).write(to: URL(fileURLWithPath: building + "/requirements.txt"))
            try manager.moveItem(atPath: building, toPath: folder)
        } catch {
            // Another deploy built the same venv first: use theirs.
            if manager.fileExists(atPath: folder + "/requirements.txt") { return python }
            throw DeploymentError(.files, "cannot move the built venv to \(folder): \(error.localizedDescription)",
                                  remedy: "remove \(folder) and deploy again")
        }
        return python
    }
}
