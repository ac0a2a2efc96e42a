import Canonical
import Foundation

/// An OCI image index: the `index.json` of a layout, or a multi-platform image.
///
/// In a layout written here it lists the image's manifest once per tag, each with its
/// tag in `org.opencontainers.image.ref.name` (what `skopeo`'s `oci:DIR:TAG` and
/// `umoci`'s `DIR:TAG` look up), or once without a tag when there is none.
public struct ImageIndex: Sendable, Hashable, Decodable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]

    /// An index of `manifests`.
    public init(manifests: [Descriptor]) {
        schemaVersion = 2
        mediaType = OCIMediaType.index
        self.manifests = manifests
    }

    /// The index of one manifest under each of `tags` (sorted), or untagged.
    public init(manifest: Descriptor, tags: [String]) {
        let entries = tags.isEmpty ? [manifest] : Set(tags).sorted().map { tag in
            var entry = manifest
            entry.annotations = [OCIAnnotation.refName: tag]
            return entry
        }
        self.init(manifests: entries)
    }

    /// Parses an index; `origin` names it in the error.
    public static func parse(_ bytes: [UInt8], origin: String) throws(ImageError) -> ImageIndex {
        do {
            return try JSONDecoder().decode(ImageIndex.self, from: Data(bytes))
        } catch {
            throw ImageError(.notALayout, "\(origin) is not an OCI image index (\(error))", path: origin, cause: error)
        }
    }

    /// The canonical JSON bytes: sorted keys, no whitespace.
    public func canonicalJSON() -> [UInt8] {
        var json = OCIJSONWriter()
        json.beginObject()
        json.key("manifests")
        json.beginArray()
        for manifest in manifests { manifest.write(to: &json) }
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
