import Canonical
import Foundation

/// An OCI image config: what the image runs (`config`), its layers' diff_ids
/// (`rootfs`) and how it was made (`history`), read from a base image and written for a
/// new one as canonical JSON (sorted keys, no whitespace), so that its digest is stable.
///
/// Fields the image spec has and mlpipe does not write (`author`, a config's
/// `Volumes`, `StopSignal`, …) are kept from a base only where listed here; the others
/// are dropped, as `docker build` would not carry them either.
public struct ImageConfig: Sendable, Hashable, Decodable {
    public var architecture: String
    public var os: String
    public var variant: String?
    /// RFC 3339; the commit's time for a built image.
    public var created: String?
    public var config: Execution
    public var rootfs: RootFS
    public var history: [History]?

    /// How a container of the image runs.
    public struct Execution: Sendable, Hashable, Decodable {
        public var user: String?
        /// `8080/tcp`, …
        public var exposedPorts: Set<String>?
        /// `NAME=value`, in order.
        public var env: [String]?
        public var entrypoint: [String]?
        public var cmd: [String]?
        public var volumes: Set<String>?
        public var workingDir: String?
        public var labels: [String: String]?
        public var stopSignal: String?

        enum CodingKeys: String, CodingKey {
            case user = "User", exposedPorts = "ExposedPorts", env = "Env", entrypoint = "Entrypoint"
            case cmd = "Cmd", volumes = "Volumes", workingDir = "WorkingDir", labels = "Labels"
            case stopSignal = "StopSignal"
        }

        /// Nothing set.
        public init() {}

        public init(from decoder: any Decoder) throws {
            let fields = try decoder.container(keyedBy: CodingKeys.self)
            user = try fields.decodeIfPresent(String.self, forKey: .user)
            exposedPorts = try fields.decodeIfPresent([String: EmptyObject].self, forKey: .exposedPorts).map { Set($0.keys) }
            env = try fields.decodeIfPresent([String].self, forKey: .env)
            entrypoint = try fields.decodeIfPresent([String].self, forKey: .entrypoint)
            cmd = try fields.decodeIfPresent([String].self, forKey: .cmd)
            volumes = try fields.decodeIfPresent([String: EmptyObject].self, forKey: .volumes).map { Set($0.keys) }
            workingDir = try fields.decodeIfPresent(String.self, forKey: .workingDir)
            labels = try fields.decodeIfPresent([String: String].self, forKey: .labels)
            stopSignal = try fields.decodeIfPresent(String.self, forKey: .stopSignal)
        }
    }

    /// The layers' uncompressed digests, base first.
    public struct RootFS: Sendable, Hashable, Decodable {
        public var type: String
        public var diffIDs: [Digest]

        enum CodingKeys: String, CodingKey {
            case type, diffIDs = "diff_ids"
        }

        public init(diffIDs: [Digest]) {
            type = "layers"
            self.diffIDs = diffIDs
        }
    }

    /// One step of the image's making; `empty_layer` when it made no layer.
    public struct History: Sendable, Hashable, Decodable {
        public var created: String?
        public var createdBy: String?
        public var author: String?
        public var comment: String?
        public var emptyLayer: Bool?

        enum CodingKeys: String, CodingKey {
            case created, createdBy = "created_by", author, comment, emptyLayer = "empty_layer"
        }

        public init(created: String?, createdBy: String?, comment: String? = nil, emptyLayer: Bool? = nil) {
            self.created = created
            self.createdBy = createdBy
            self.comment = comment
            self.emptyLayer = emptyLayer
        }
    }

    /// `{}` in JSON: the value type of `ExposedPorts` and `Volumes`.
    struct EmptyObject: Decodable {}

    /// A config for linux/amd64 with no layers yet.
    public init(architecture: String = "amd64", os: String = "linux") {
        self.architecture = architecture
        self.os = os
        config = Execution()
        rootfs = RootFS(diffIDs: [])
    }

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant, created, config, rootfs, history
    }

    /// Decodes a config; `config` may be absent (nothing set), as the spec allows.
    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        architecture = try fields.decode(String.self, forKey: .architecture)
        os = try fields.decode(String.self, forKey: .os)
        variant = try fields.decodeIfPresent(String.self, forKey: .variant)
        created = try fields.decodeIfPresent(String.self, forKey: .created)
        config = try fields.decodeIfPresent(Execution.self, forKey: .config) ?? Execution()
        rootfs = try fields.decode(RootFS.self, forKey: .rootfs)
        history = try fields.decodeIfPresent([History].self, forKey: .history)
    }

    /// Parses a config blob; `origin` names it in the error.
    public static func parse(_ bytes: [UInt8], origin: String) throws(ImageError) -> ImageConfig {
        do {
            return try JSONDecoder().decode(ImageConfig.self, from: Data(bytes))
        } catch {
            throw ImageError(.notALayout, "the image config \(origin) is not an OCI image config (\(error)); "
                             + "rebuild the base image", path: origin, cause: error)
        }
    }

    /// The canonical JSON bytes: sorted keys, no whitespace, absent fields left out.
    public func canonicalJSON() -> [UInt8] {
        var json = OCIJSONWriter()
        json.beginObject()
        json.key("architecture")
        json.string(architecture)
        json.key("config")
        config.write(to: &json)
        if let created {
            json.key("created")
            json.string(created)
        }
        if let history {
            json.key("history")
            json.beginArray()
            for step in history { step.write(to: &json) }
            json.endArray()
        }
        json.key("os")
        json.string(os)
        json.key("rootfs")
        json.beginObject()
        json.key("diff_ids")
        json.strings(rootfs.diffIDs.map(\.description))
        json.key("type")
        json.string(rootfs.type)
        json.endObject()
        if let variant {
            json.key("variant")
            json.string(variant)
        }
        json.endObject()
        return json.bytes
    }
}

extension ImageConfig.Execution {
    func write(to json: inout OCIJSONWriter) {
        json.beginObject()
        if let cmd { json.key("Cmd"); json.strings(cmd) }
        if let entrypoint { json.key("Entrypoint"); json.strings(entrypoint) }
        if let env { json.key("Env"); json.strings(env) }
        if let exposedPorts { json.key("ExposedPorts"); json.emptyObjects(exposedPorts) }
        if let labels { json.key("Labels"); json.stringMap(labels) }
        if let stopSignal { json.key("StopSignal"); json.string(stopSignal) }
        if let user { json.key("User"); json.string(user) }
        if let volumes { json.key("Volumes"); json.emptyObjects(volumes) }
        if let workingDir { json.key("WorkingDir"); json.string(workingDir) }
        json.endObject()
    }
}

extension ImageConfig.History {
    func write(to json: inout OCIJSONWriter) {
        json.beginObject()
        if let author { json.key("author"); json.string(author) }
        if let comment { json.key("comment"); json.string(comment) }
        if let created { json.key("created"); json.string(created) }
        if let createdBy { json.key("created_by"); json.string(createdBy) }
        if let emptyLayer { json.key("empty_layer"); json.bool(emptyLayer) }
        json.endObject()
    }
}
