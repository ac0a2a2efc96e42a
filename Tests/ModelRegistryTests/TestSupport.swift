import Foundation
import ModelRegistry

/// A folder under the system's temporary folder, removed with its content when the last
/// reference goes.
final class TemporaryFolder: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("registry-tests-\(UUID().uuidString.prefix(8))").resolvingSymlinksInPath().path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the folder.
    func file(_ name: String) -> String { path + "/" + name }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// `sha256:` and 64 hex digits made from `seed`.
func digest(_ seed: Int) -> String {
    "sha256:" + String(repeating: String(format: "%08x", seed), count: 8)
}

/// A moment `seconds` after a fixed time (whole seconds survive the database's REAL).
func moment(_ seconds: Double) -> Date {
    Date(timeIntervalSince1970: 1_800_000_000 + seconds)
}

/// A registration of package `seed` of model `name`, as run 7 at a fixed commit.
func registration(_ name: String = "iris", package seed: Int, image: Int? = nil,
                  metrics: [String: Double] = ["accuracy": 0.96]) -> Registration {
    Registration(
        name: name, packageDigest: digest(seed), imageDigest: image.map(digest),
        image: image.map { "127.0.0.1:5000/iris@\(digest($0))" }, metrics: metrics, pipeline: "iris", stage: "register",
        inputs: ["data/iris.csv": "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"], scanVerdict: "safe",
        scanReportDigest: digest(900 + seed),
        provenance: Provenance(runID: 7, commit: String(repeating: "ab", count: 20), user: "ci"))
}

/// A settable clock for alias-move times.
final class TestClock: @unchecked Sendable {
    // Guarded by `lock`; read from the registry's calls, set by the test between them.
    private let lock = NSLock()
    private var current = moment(0)

    func set(_ date: Date) { lock.withLock { current = date } }
    var now: @Sendable () -> Date { { [self] in lock.withLock { current } } }
}
