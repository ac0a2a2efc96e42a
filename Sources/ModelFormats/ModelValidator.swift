import Foundation

/// The `validate` stage's check of one model, a file or a folder: every file is scanned,
/// then the model as a whole is held to what the pipeline expects of it.
///
/// Rules, in the order they are applied:
/// - a path that does not exist, or a folder with no files, is `invalid`;
/// - every file is scanned (`Scanner`); an `unsafe` or `invalid` file fails the model;
/// - a single file whose bytes are no known format is `unknown` and fails, unless the
///   declared format is `unknown`. In a folder, files of no known format (a README, a
///   tokenizer's JSON, ONNX external data) do not count, as long as the folder holds
///   at least one model file or the declared format is `unknown`: loaders never
///   unpickle them, and anything that parses as a pickle is a pickle, not `unknown`;
/// - the declared format must be the file's, or for a folder at least one file's;
/// - `maxSize` bounds all bytes together; `sha256` is compared with a single file's
///   digest (a folder has none, and saying one is expected is a finding);
/// - `signature` is compared with the first signature a file declares (ONNX).
///
/// Every check that fails adds one finding (verdict `invalid`) to the report; the
/// model passes only when nothing counts against it.
public struct ModelValidator: Sendable {
    /// What the pipeline expects of the model, from the stage's `with:`.
    public struct Expectations: Sendable {
        public var format: ExpectedFormat
        /// Most bytes the model may have, all files together.
        public var maxSize: Int64?
        /// "sha256:<64 lower-case hex>" of a single-file model.
        public var sha256: String?
        public var signature: ModelSignature?

        public init(format: ExpectedFormat = .auto, maxSize: Int64? = nil, sha256: String? = nil,
                    signature: ModelSignature? = nil) {
            self.format = format
            self.maxSize = maxSize
            self.sha256 = sha256
            self.signature = signature
        }
    }

    public let scanner: Scanner

    public init(scanner: Scanner) {
        self.scanner = scanner
    }

    /// Validates the model at `path` (absolute, or relative to the working folder).
    ///
    /// `name` is how the report and its lines call the model (the path as the pipeline
    /// wrote it); file paths inside the report are made relative to `base` when they
    /// are under it, so that a report does not depend on where the repository was
    /// checked out.
    public func validate(model path: String, name: String, base: String?,
                         expecting expectations: Expectations) -> ValidationReport {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            return report(name, verdict: .invalid, format: .unknown, size: 0, files: [], checks: [
                check("model-missing", "the model \(name) does not exist; check the path, or the stage that should write it"),
            ])
        }
        var files = scanner.scan(paths: [path])
        if let base {
            let prefix = base.hasSuffix("/") ? base : base + "/"
            for index in files.indices where files[index].path.hasPrefix(prefix) {
                files[index].path = String(files[index].path.dropFirst(prefix.count))
            }
        }
        let folder = isFolder.boolValue
        let expected = expectations.format
        var checks: [Finding] = []

        // Which files count: see the type's rules on unknown files.
        let recognised = files.filter { $0.format != .unknown }
        let unknownCounts = !expected.acceptsUnknown && (!folder || recognised.isEmpty)
        var verdict = Verdict.safe
        for file in files where file.verdict != .unknown || unknownCounts {
            verdict = max(verdict, file.verdict)
        }

        let format: ModelFormat
        if folder {
            format = files.first { expected.accepts($0.format) }?.format ?? .unknown
            if files.isEmpty {
                checks.append(check("empty-model", "the folder \(name) holds no files"))
            } else if recognised.isEmpty && !expected.acceptsUnknown {
                checks.append(Finding(
                    kind: "unknown-format", verdict: .unknown,
                    message: "no file in \(name) is a model format mlpipe knows; declare format: unknown "
                        + "to accept a format it cannot read"))
            } else if !files.contains(where: { expected.accepts($0.format) }) {
                let found = Set(files.map(\.format.rawValue)).sorted().joined(separator: ", ")
                checks.append(check("format-mismatch", "expected \(expected.name), but no file in \(name) is (found: \(found))"))
            }
        } else if let file = files.first {
            format = file.format
            if file.format == .unknown && !expected.acceptsUnknown && file.verdict == .unknown {
                checks.append(Finding(
                    kind: "unknown-format", verdict: .unknown,
                    message: "the bytes are no model format mlpipe knows; declare format: unknown "
                        + "to accept a format it cannot read"))
            } else if file.format != .unknown || expected.acceptsUnknown {
                if !expected.accepts(file.format) {
                    checks.append(check("format-mismatch", "expected \(expected.name), but the bytes are \(file.format.rawValue)"))
                }
            }
        } else {
            format = .unknown
        }

        let size = files.reduce(Int64(0)) { $0 + $1.size }
        if let limit = expectations.maxSize, size > limit {
            checks.append(check("too-large", "the model is \(size) bytes, over max_size \(limit)"))
        }
        let digest = folder ? nil : files.first?.sha256
        if let want = expectations.sha256 {
            if folder {
                checks.append(check("digest-mismatch", "sha256 checks a single file, but \(name) is a folder; "
                                    + "name the model file itself"))
            } else if digest != want {
                checks.append(check("digest-mismatch", "the model's digest is \(digest ?? "unreadable"), expected \(want)"))
            }
        }
        let signature = files.lazy.compactMap(\.signature).first
        if let want = expectations.signature {
            checks += SignatureCheck.compare(expected: want, found: signature)
        }
        for finding in checks { verdict = max(verdict, finding.verdict) }
        var result = report(name, verdict: verdict, format: format, size: size, files: files, checks: checks)
        result.sha256 = digest
        result.signature = signature
        return result
    }

    private func report(_ name: String, verdict: Verdict, format: ModelFormat, size: Int64,
                        files: [FileReport], checks: [Finding]) -> ValidationReport {
        ValidationReport(model: name, verdict: verdict, format: format, size: size, sha256: nil,
                         signature: nil, findings: checks, files: files, allowed: scanner.policy.extraAllowed)
    }

    private func check(_ kind: String, _ message: String) -> Finding {
        Finding(kind: kind, verdict: .invalid, message: message)
    }
}
