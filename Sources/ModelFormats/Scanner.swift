import Canonical
import ArtifactStore
import Foundation

/// The model scanner: detects each file's format from its bytes and checks it
/// statically, never loading or executing it.
///
/// This is what the `validate` stage and `mlpipe scan` run. A scan never throws:
/// a file it cannot read is `invalid` with a finding that says why, a format it does
/// not know is `unknown`, and only a file it read completely and found nothing
/// against is `safe`. It is a value type with no shared state, so one scanner may
/// scan many files at once.
public struct Scanner: Sendable {
    public let policy: ScanPolicy
    public let limits: ScanLimits
    public let computeDigest: Bool

    /// A scanner with a policy (the defaults plus `with: allow`), limits, and
    /// whether reports carry the file's SHA-256 (one extra streaming read).
    public init(policy: ScanPolicy = .default, limits: ScanLimits = .default, computeDigest: Bool = true) {
        self.policy = policy
        self.limits = limits
        self.computeDigest = computeDigest
    }

    /// Scans one file.
    ///
    /// `expecting` is the format the caller declared (the stage's `format:`); when
    /// the bytes say otherwise the report has a `format-mismatch` finding and is
    /// `invalid`. A name whose extension suggests another format gets an
    /// `extension-mismatch` finding that changes no verdict: the bytes decide.
    public func scanFile(at path: String, expecting: ModelFormat? = nil) -> FileReport {
        var log = FindingLog(limit: limits.maxFindings)
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            log.add(Finding(kind: "unreadable", verdict: .invalid, message: "\(path) \(error.message)"))
            return FileReport(path: path, format: .unknown, verdict: .invalid, size: 0, sha256: nil,
                              findings: log.finished())
        }
        // The object store's own streaming hash, so that a report's digest is the one
        // the store names the same file by.
        let digest = computeDigest ? (try? FileDigest.sha256(path: path))?.digest.description : nil
        return report(file.bytes, path: path, digest: digest, expecting: expecting, log: log, mapped: true)
    }

    /// Scans bytes already in memory as the file at `path` (tests and fuzzing).
    func scan(bytes: UnsafeRawBufferPointer, path: String = "memory", expecting: ModelFormat? = nil) -> FileReport {
        report(bytes, path: path, digest: nil, expecting: expecting, log: FindingLog(limit: limits.maxFindings))
    }

    private func report(_ bytes: UnsafeRawBufferPointer, path: String, digest: String?, expecting: ModelFormat?,
                        log start: FindingLog, mapped: Bool = false) -> FileReport {
        var log = start
        var session = mapped ? ScanSession(scanner: self, rootPath: path, mapping: bytes)
            : ScanSession(scanner: self, rootPath: path)
        let detected = session.scan(bytes, member: nil, depth: 0, log: &log)
        if let expecting, expecting != detected.format, !(expecting == .zip && detected.format.isZip) {
            log.add(Finding(kind: "format-mismatch", verdict: .invalid,
                            message: "expected \(expecting.rawValue), but the bytes are \(detected.format.rawValue)"))
        }
        if let note = Self.extensionMismatch(path: path, format: detected.format) {
            log.add(note)
        }
        if detected.format == .unknown, log.worst == .safe, let claim = Self.unmetNameClaim(path: path, bytes: bytes) {
            log.add(claim)
        }
        var verdict = log.worst
        if detected.format == .unknown && verdict == .safe { verdict = .unknown }
        return FileReport(path: path, format: detected.format, verdict: verdict, size: Int64(bytes.count),
                          sha256: digest, findings: log.finished(), signature: detected.signature)
    }

    /// Scans files and folders: folders are walked in sorted order, skipping `.git`
    /// and not following links to folders; one report per file, in walk order.
    public func scan(paths: [String]) -> [FileReport] {
        var reports: [FileReport] = []
        scan(paths: paths) { reports.append($0) }
        return reports
    }

    /// Scans files and folders as `scan(paths:)` does, handing each report to `each`
    /// as soon as its file is done, so that a caller can print while a large folder
    /// is still being walked.
    public func scan(paths: [String], each: (FileReport) throws -> Void) rethrows {
        for path in paths {
            for file in Self.files(under: path) {
                if let missing = file.problem {
                    try each(FileReport(
                        path: file.path, format: .unknown, verdict: .invalid, size: 0, sha256: nil,
                        findings: [Finding(kind: "unreadable", verdict: .invalid, message: "\(file.path) \(missing)")]))
                } else {
                    try each(scanFile(at: file.path))
                }
            }
        }
    }
}

extension ModelFormat {
    /// Formats that are zip archives underneath.
    var isZip: Bool {
        self == .zip || self == .pytorchZip || self == .kerasZip
    }
}
