import Canonical
import Foundation

/// An OCI image manifest: the config's descriptor, the layers' descriptors (base first)
/// and annotations, written as canonical JSON so that equal images have equal digests.
///
/// Read from a base image too, where a Docker schema 2 manifest (the same shape with
/// Docker's media types) is accepted.
public struct ImageManifest: Sendable, Hashable, Decodable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    /// A manifest of an OCI image.
    public init(config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        schemaVersion = 2
        mediaType = OCIMediaType.manifest
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }

    /// Parses a manifest blob; `origin` names it in the error.
    public static func parse(_ bytes: [UInt8], origin: String) throws(ImageError) -> ImageManifest {
        let manifest: ImageManifest
        do {
            manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(bytes))
        } catch {
            throw ImageError(.notALayout, "the manifest \(origin) is not an image manifest (\(error))",
                             path: origin, cause: error)
        }
        guard manifest.schemaVersion == 2 else {
            throw ImageError(.notALayout, "the manifest \(origin) has schemaVersion \(manifest.schemaVersion); "
                             + "only version 2 (OCI and Docker schema 2) is read", path: origin)
        }
        return manifest
    }

    /// The canonical JSON bytes: sorted keys, no whitespace.
    public func canonicalJSON() -> [UInt8] {
        var json = OCIJSONWriter()
        json.beginObject()
        if let annotations, !annotations.isEmpty {
            json.key("annotations")
            json.stringMap(annotations)
        }
        json.key("config")
        config.write(to: &json)
        json.key("layers")
        json.beginArray()
        for layer in layers { layer.write(to: &json) }
        json.endArray()
        if let mediaType {
            json.key("mediaType")
            json.string(mediaType)
        }
        json.key("schemaVersion")
        json.integer(Int64(schemaVersion))
        json.endObject()
        return json.bytes
    }
}
