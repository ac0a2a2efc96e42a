import Canonical
@testable import ContainerImage
import Foundation
import Testing

@Suite("image config and manifest")
struct ImageConfigTests {
    @Test("the config is canonical JSON: sorted keys, no whitespace, ports and history as the spec has them")
    func canonicalConfig() {
        var builder = ImageBuilder(base: nil, created: 0)
        builder.entrypoint = ["python3"]
        builder.environment = ["B": "2", "A": "1"]
        builder.exposedPorts = ["8080/tcp"]
        builder.user = "65532:65532"
        let layer = Layer(mediaType: OCIMediaType.layerTar, digest: SHA256Hasher.digest(of: [1]), size: 1,
                          diffID: SHA256Hasher.digest(of: [1]), path: "/x")
        let image = builder.build([ImageBuilder.Step(layer: layer, createdBy: "test")])
        let diff = layer.diffID.description
        #expect(String(decoding: image.configBytes, as: UTF8.self) == "{\"architecture\":\"amd64\",\"config\":"
            + "{\"Entrypoint\":[\"python3\"],\"Env\":[\"A=1\",\"B=2\"],\"ExposedPorts\":{\"8080/tcp\":{}},"
            + "\"User\":\"65532:65532\"},\"created\":\"1970-01-01T00:00:00Z\",\"history\":[{\"created\":"
            + "\"1970-01-01T00:00:00Z\",\"created_by\":\"test\"}],\"os\":\"linux\",\"rootfs\":{\"diff_ids\":"
            + "[\"\(diff)\"],\"type\":\"layers\"}}")
        #expect(String(decoding: image.manifestBytes, as: UTF8.self) == "{\"config\":{\"digest\":\""
            + "\(image.configDigest)\",\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"size\":"
            + "\(image.configBytes.count)},\"layers\":[{\"digest\":\"\(layer.digest)\",\"mediaType\":"
            + "\"application/vnd.oci.image.layer.v1.tar\",\"size\":1}],\"mediaType\":"
            + "\"application/vnd.oci.image.manifest.v1+json\",\"schemaVersion\":2}")
    }

    @Test("a base's config parses, and a config without `config` is read as nothing set")
    func parse() throws {
        let config = try ImageConfig.parse(Array("""
            {"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},
             "config":{"Env":["PATH=/bin"],"ExposedPorts":{"80/tcp":{}},"Cmd":["sh"]}}
            """.utf8), origin: "test")
        #expect(config.config.env == ["PATH=/bin"])
        #expect(config.config.exposedPorts == ["80/tcp"])
        let bare = try ImageConfig.parse(Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}".utf8), origin: "bare")
        #expect(bare.config.cmd == nil)
        #expect(throws: ImageError.self) { try ImageConfig.parse(Array("[]".utf8), origin: "x") }
    }

    @Test("times are RFC 3339 in UTC, and SOURCE_DATE_EPOCH wins over the commit's time")
    func times() {
        #expect(ImageTime.rfc3339(1_764_504_000) == "2025-11-30T12:00:00Z")
        #expect(ImageTime.epoch(commitTime: 5, environment: [:]) == 5)
        #expect(ImageTime.epoch(commitTime: 5, environment: ["SOURCE_DATE_EPOCH": "9"]) == 9)
        #expect(ImageTime.epoch(commitTime: 5, environment: ["SOURCE_DATE_EPOCH": "soon"]) == 5)
    }

    @Test("tar headers: a 100-byte name fits ustar; longer ones split at a slash or go to pax")
    func tarHeaders() {
        #expect(TarHeader.split(String(repeating: "a", count: 100))?.0 == "")
        let split = TarHeader.split(String(repeating: "p", count: 50) + "/" + String(repeating: "n", count: 90))
        #expect(split?.0 == String(repeating: "p", count: 50) && split?.1 == String(repeating: "n", count: 90))
        #expect(TarHeader.split(String(repeating: "a", count: 101)) == nil)
        #expect(TarHeader.split("model/café.onnx") == nil)
        #expect(TarHeader.paxRecord("path", "abc") == Array("12 path=abc\n".utf8))
        #expect(TarHeader.paxRecord("path", String(repeating: "x", count: 91)).count == 101)   // 100 has 3 digits, so 101
        let big = TarHeader(path: "w.bin", kind: .file, mode: 0o644, size: 9 << 30, mtime: 0).encoded()
        #expect(big.count == 512 * 3)
        #expect(String(decoding: big[512..<1024], as: UTF8.self).hasPrefix("19 size=9663676416\n"))
    }
}
