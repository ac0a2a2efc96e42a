import ContainerImage
import Testing

@Suite("OCI media types")
struct MediaTypeTests {
    @Test("media types are the OCI image-spec v1 names that registries and skopeo expect")
    func names() {
        #expect(OCIMediaType.manifest == "application/vnd.oci.image.manifest.v1+json")
        #expect(OCIMediaType.layerGzip == "application/vnd.oci.image.layer.v1.tar+gzip")
    }
}
