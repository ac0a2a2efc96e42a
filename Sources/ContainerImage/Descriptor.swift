import Canonical

/// An OCI content descriptor: what a manifest or index says of a blob it points to.
///
/// `annotations` holds, in an index, `org.opencontainers.image.ref.name` (the tag);
/// `platform` is read from a base image's index and written by nobody here.
public struct Descriptor: Sendable, Hashable, Codable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var annotations: [String: String]?
    public var platform: Platform?

    /// The architecture and OS an index entry is for.
    public struct Platform: Sendable, Hashable, Codable {
        public var architecture: String
        public var os: String
        public var variant: String?
    }

    /// A descriptor from its parts.
    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
    }

    /// The tag an index gives it.
    public var refName: String? { annotations?[OCIAnnotation.refName] }

    /// Writes the descriptor as a canonical JSON object (sorted keys, no whitespace).
    func write(to writer: inout OCIJSONWriter) {
        writer.beginObject()
        if let annotations, !annotations.isEmpty {
            writer.key("annotations")
            writer.stringMap(annotations)
        }
        writer.key("digest")
        writer.string(digest.description)
        writer.key("mediaType")
        writer.string(mediaType)
        writer.key("size")
        writer.integer(size)
        writer.endObject()
    }
}
