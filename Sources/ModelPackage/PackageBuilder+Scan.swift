import Canonical
import Foundation
import ModelFormats

extension PackageBuilder {
    /// What the scan (the validate report's, or the builder's own) says of the copied files.
    struct Scanned {
        /// The verdict, report digest and allow-list the manifest records.
        var scan: PackageScan
        /// The model's format as the scan detected it.
        var format: ModelFormat
        /// Each copied file's format, in walk order.
        var fileFormats: [ModelFormat]
        /// The signature the model declares (ONNX), if any.
        var signature: ModelSignature?
        /// The canonical JSON of the report the builder made; nil for a given report.
        var madeReport: [UInt8]?
    }

    /// Reads the given validate report, or scans the copied files; fails unless `safe`.
    func examine(_ tree: ModelTree, files: [PackageFile], staging: String) throws(PackageError) -> Scanned {
        if let report {
            return try trust(report: report, files: files)
        }
        return try scan(tree, staging: staging)
    }

    /// Scans the copied files (so that what is scanned is what is packaged) with the
    /// default policy plus `allow`. Paths in the report are relative to the package
    /// (`model/...`), so that its canonical JSON, and the digest recorded, is the same
    /// wherever the package is built.
    private func scan(_ tree: ModelTree, staging: String) throws(PackageError) -> Scanned {
        let scanner = ModelFormats.Scanner(policy: ScanPolicy.default.allowing(allow))
        let inside = tree.isFolder ? ModelPackage.modelFolder
            : ModelPackage.modelFolder + "/" + (tree.entries.first?.relative ?? "")
        let report = ModelValidator(scanner: scanner).validate(
            model: staging + "/" + inside, name: inside, base: staging,
            expecting: ModelValidator.Expectations(format: format))
        guard report.passed else {
            let first = report.problemLines().first ?? "\(inside): \(report.verdict.rawValue)"
            throw PackageError(.unsafeModel, shownPath(first, isFolder: tree.isFolder) + "; the model is not packaged"
                               + (report.verdict == .unsafe ? " (a model that is not safe is never packaged; if the "
                                  + "global is yours and trusted, add it to `allow`)" : ""), path: shownModel)
        }
        let bytes: [UInt8]
        do {
            bytes = try JSONTree.of(report).canonical
        } catch {
            throw PackageError(.io, "the scan report of \(shownModel) cannot be encoded: \(error)")
        }
        return Scanned(scan: PackageScan(verdict: report.verdict, reportDigest: SHA256Hasher.digest(of: bytes),
                                         allow: report.allowed),
                       format: report.format, fileFormats: report.files.map(\.format),
                       signature: report.signature, madeReport: bytes)
    }

    /// A problem line of the builder's scan with the package path (`model/x.pkl`, or
    /// `model` for the model as a whole) replaced by the model's path as the caller named it.
    private func shownPath(_ line: String, isFolder: Bool) -> String {
        let whole = isFolder ? ModelPackage.modelFolder : ""
        if !whole.isEmpty && line.hasPrefix(whole + ": ") { return shownModel + line.dropFirst(whole.count) }
        let folder = ModelPackage.modelFolder + "/"
        guard line.hasPrefix(folder), let colon = line.range(of: ": ") else { return line }
        let relative = line[line.index(line.startIndex, offsetBy: folder.count)..<colon.lowerBound]
        return (isFolder ? shownModel + "/" + relative : shownModel) + line[colon.lowerBound...]
    }

    /// Reads the validate report at `path`, checks that it is about these very bytes and
    /// says `safe`, and takes its format, signature and allow-list.
    private func trust(report path: String, files: [PackageFile]) throws(PackageError) -> Scanned {
        let shown = shownReport ?? path
        let bytes: [UInt8]
        do {
            bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw PackageError(.notFound, "the validate report \(shown) cannot be read (\(error.localizedDescription)); "
                               + "name the report a validate stage writes: ${{ stages.NAME.outputs.report }}", path: shown)
        }
        let report: ValidationReport
        do {
            report = try JSONDecoder().decode(ValidationReport.self, from: Data(bytes))
        } catch {
            throw PackageError(.invalidInput, "\(shown) is not a validate report (\(error)); name the report a "
                               + "validate stage writes: ${{ stages.NAME.outputs.report }}", path: shown)
        }
        guard report.verdict == .safe, report.passed else {
            let first = report.problemLines().first ?? "\(report.model): \(report.verdict.rawValue)"
            throw PackageError(.unsafeModel, first + "; the model is not packaged (validate report \(shown))",
                               path: shownModel)
        }
        try checkSameBytes(report, files: files, shown: shown)
        if !allow.isEmpty && allow != report.allowed {
            throw PackageError(.invalidInput, "allow \(allow) differs from the allow-list the validate report \(shown) "
                               + "was made with (\(report.allowed)); the report's scan is the one recorded: set allow "
                               + "on the validate stage, and leave it out here", path: shown)
        }
        if format.name != ExpectedFormat.auto.name && !format.accepts(report.format) {
            throw PackageError(.invalidInput, "expected \(format.name), but the validate report \(shown) says "
                               + "\(shownModel) is \(report.format.rawValue)", path: shownModel)
        }
        return Scanned(scan: PackageScan(verdict: report.verdict, reportDigest: SHA256Hasher.digest(of: bytes),
                                         allow: report.allowed),
                       format: report.format, fileFormats: report.files.map(\.format),
                       signature: report.signature, madeReport: nil)
    }

    /// Refuses a report about other bytes: its files' digests, in walk order, must be
    /// those of the files copied, or its verdict says nothing about this model.
    private func checkSameBytes(_ report: ValidationReport, files: [PackageFile], shown: String) throws(PackageError) {
        func mismatch(_ detail: String) -> PackageError {
            PackageError(.reportMismatch, "the validate report \(shown) is about other bytes than \(shownModel): "
                         + detail + "; give serialize the same model as the validate stage, and run both on it",
                         path: shown)
        }
        guard report.files.count == files.count else {
            throw mismatch("it lists \(report.files.count) file(s), the model has \(files.count)")
        }
        for (scanned, copied) in zip(report.files, files) where scanned.sha256 != copied.sha256.description {
            throw mismatch("\(scanned.path) is \(scanned.sha256 ?? "without a digest") in the report, but "
                           + "\(copied.path.dropFirst(ModelPackage.modelFolder.count + 1)) is \(copied.sha256)")
        }
    }
}
