import CHDF5
import Foundation

/// Reads a Keras `.h5` model's root attributes through libhdf5 and scans its config.
///
/// Keras (2, and Keras 3's legacy format) saves the architecture as JSON in the root
/// attribute `model_config`, the optimizer, loss and metrics in `training_config`, and
/// the writer's version in `keras_version`. Loading the model rebuilds every object named
/// there, so both JSON attributes go through `KerasConfigScanner`. The weights are
/// datasets, which are never read. An HDF5 file without `model_config` holds weights only
/// (`save_weights`, or `model.weights.h5` inside a `.keras` archive) and gets no finding.
///
/// Not covered: HDF5 external links, external dataset storage and virtual datasets,
/// which Keras does not write and h5py only follows when asked.
enum KerasH5Reader {
    /// The 8-byte HDF5 format signature.
    static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Largest attribute read; a Keras config is kilobytes to a few megabytes.
    static let attributeLimit = 64 << 20

    /// Whether `bytes` carry the HDF5 signature where HDF5 looks for it: at offset 0, or
    /// after a user block at 512, 1024, 2048, … bytes.
    static func looksLike(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset + signature.count <= bytes.count {
            if (0..<signature.count).allSatisfy({ bytes[offset + $0] == signature[$0] }) {
                return true
            }
            offset = offset == 0 ? 512 : offset * 2
        }
        return false
    }

    /// Findings for the Keras model in the HDF5 file at `path`.
    static func inspect(path: String, policy: ScanPolicy) -> [Finding] {
        let attributes: Attributes
        switch readAttributes(path: path) {
        case .success(let read): attributes = read
        case .failure(let problem):
            return [Finding(kind: "invalid-h5", verdict: .invalid, message: problem.message)]
        }
        var findings: [Finding] = []
        if let config = attributes.modelConfig {
            findings += config.withUnsafeBytes { json in
                KerasConfigScanner.scan(json: json, member: "model_config", policy: policy,
                                        requireModel: true)
            }
        }
        if let config = attributes.trainingConfig {
            findings += config.withUnsafeBytes { json in
                KerasConfigScanner.scan(json: json, member: "training_config", policy: policy,
                                        requireModel: false)
            }
        }
        return findings
    }

    /// The root attributes Keras writes, as raw bytes (JSON for the configs).
    struct Attributes: Sendable, Equatable {
        var modelConfig: [UInt8]?
        var trainingConfig: [UInt8]?
        var kerasVersion: String?
        var backend: String?
    }

    /// Why libhdf5 could not give the attributes.
    struct Problem: Error, Equatable {
        var message: String
    }

    /// libhdf5 from Debian is built without thread safety: every call into it, from any
    /// thread, holds this lock.
    private static let lock = NSLock()

    /// libhdf5's calls, loaded on first use, or why they cannot be.
    private static func library() -> Result<mlpipe_hdf5, Problem> {
        var error = [CChar](repeating: 0, count: 512)
        guard let table = mlpipe_hdf5_load(&error, error.count) else {
            return .failure(Problem(message: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)))
        }
        return .success(table.pointee)
    }

    /// Opens the file read-only and reads the root attributes Keras writes.
    static func readAttributes(path: String) -> Result<Attributes, Problem> {
        lock.lock()
        defer { lock.unlock() }
        let h5: mlpipe_hdf5
        switch library() {
        case .success(let table): h5 = table
        case .failure(let problem): return .failure(problem)
        }
        // The library prints its error stack to stderr by default; lower layers never print.
        _ = h5.Eset_auto2(0 /* H5E_DEFAULT */, nil, nil)
        _ = h5.open()
        let file = h5.Fopen(path, 0 /* H5F_ACC_RDONLY */, 0 /* H5P_DEFAULT */)
        guard file >= 0 else {
            return .failure(Problem(message: "libhdf5 cannot open '\(path)' as an HDF5 file"))
        }
        defer { _ = h5.Fclose(file) }
        var attributes = Attributes()
        do {
            attributes.modelConfig = try stringAttribute(h5, file, "model_config")
            attributes.trainingConfig = try stringAttribute(h5, file, "training_config")
            attributes.kerasVersion = try stringAttribute(h5, file, "keras_version")
                .map { String(decoding: $0, as: UTF8.self) }
            attributes.backend = try stringAttribute(h5, file, "backend")
                .map { String(decoding: $0, as: UTF8.self) }
        } catch {
            return .failure(error)
        }
        return .success(attributes)
    }

    /// A scalar string attribute of the root group, fixed or variable length; nil when absent.
    /// Called with `lock` held.
    private static func stringAttribute(_ h5: mlpipe_hdf5, _ file: hid_t, _ name: String) throws(Problem) -> [UInt8]? {
        let exists = h5.Aexists(file, name)
        guard exists > 0 else {
            if exists < 0 { throw Problem(message: "libhdf5 cannot look up root attribute '\(name)'") }
            return nil
        }
        let attribute = h5.Aopen(file, name, 0)
        guard attribute >= 0 else { throw Problem(message: "libhdf5 cannot open root attribute '\(name)'") }
        defer { _ = h5.Aclose(attribute) }
        let fileType = h5.Aget_type(attribute)
        guard fileType >= 0 else { throw Problem(message: "root attribute '\(name)' has no readable type") }
        defer { _ = h5.Tclose(fileType) }
        guard h5.Tget_class(fileType) == H5T_STRING else {
            throw Problem(message: "root attribute '\(name)' is not a string")
        }
        let space = h5.Aget_space(attribute)
        guard space >= 0 else { throw Problem(message: "root attribute '\(name)' has no readable shape") }
        defer { _ = h5.Sclose(space) }
        guard h5.Sget_simple_extent_npoints(space) == 1 else {
            throw Problem(message: "root attribute '\(name)' holds more than one string")
        }
        // Strings need no conversion, so the memory type is a copy of the file's type
        // (`H5T_C_S1` is a macro over a global that Swift 6 cannot read safely).
        let memoryType = h5.Tcopy(fileType)
        guard memoryType >= 0 else { throw Problem(message: "libhdf5 cannot make a string type") }
        defer { _ = h5.Tclose(memoryType) }

        if h5.Tis_variable_str(fileType) > 0 {
            var pointer: UnsafeMutablePointer<CChar>?
            guard h5.Aread(attribute, memoryType, &pointer) >= 0 else {
                throw Problem(message: "libhdf5 cannot read root attribute '\(name)'")
            }
            guard let pointer else { return [] }
            defer { _ = h5.free_memory(pointer) }
            let length = strlen(pointer)
            guard length <= attributeLimit else {
                throw Problem(message: "root attribute '\(name)' is \(length) bytes, over the "
                              + "\(attributeLimit)-byte limit")
            }
            return Array(UnsafeRawBufferPointer(start: pointer, count: length))
        }

        let size = h5.Tget_size(fileType)
        guard size > 0, size <= attributeLimit else {
            throw Problem(message: "root attribute '\(name)' is \(size) bytes, outside 1…\(attributeLimit)")
        }
        var buffer = [UInt8](repeating: 0, count: size)
        let status = buffer.withUnsafeMutableBytes { h5.Aread(attribute, memoryType, $0.baseAddress) }
        guard status >= 0 else { throw Problem(message: "libhdf5 cannot read root attribute '\(name)'") }
        // Fixed-length strings are padded with NULs, which h5py strips from the end only;
        // a NUL inside stays, and makes the JSON invalid as it does for Keras.
        while buffer.last == 0 { buffer.removeLast() }
        return buffer
    }
}
