import Canonical
@testable import ContainerImage
import Foundation
import Testing

@Suite("OCI image layout")
struct LayoutTests {
    /// An image on a umoci-made base with an app layer and a model layer.
    static func buildImage(in folder: TempFolder) throws -> OCIImage {
        let base = try OCILayoutReader(path: try makeBaseLayout(in: folder)).image(tag: "base")
        try folder.write("app/mlpipe_serving/__main__.py", "print('serving')\n")
        try folder.write("app/run.sh", "#!/bin/sh\nexec python3 -m mlpipe_serving\n", mode: 0o700)
        try folder.write("pkg/mlpipe-model.json", "{\"name\":\"iris\"}\n", mode: 0o600)
        try folder.write("pkg/model/model.onnx", String(repeating: "x", count: 5000))
        unlink(folder.path + "/pkg/current")
        #expect(symlink("model/model.onnx", folder.path + "/pkg/current") == 0)
        let cache = LayerCache(folder: folder.path + "/cache")
        let writer = LayerWriter(mtime: 1_764_504_000)
        var app = LayerContents()
        try app.addTree(folder.path + "/app", at: "/opt/mlpipe/app")
        var model = LayerContents()
        try model.addTree(folder.path + "/pkg", at: "/model")
        var builder = ImageBuilder(base: base, created: 1_764_504_000)
        builder.entrypoint = ["python3", "-m", "mlpipe_serving"]
        builder.environment = ["PORT": "8080", "MLPIPE_MODEL_DIR": "/model"]
        builder.exposedPorts = ["8080/tcp"]
        builder.user = "65532:65532"
        builder.workingDir = "/opt/mlpipe/app"
        builder.labels = ["team": "ml"]
        builder.annotations = [OCIAnnotation.revision: String(repeating: "a", count: 40), OCIAnnotation.title: "iris"]
        return builder.build([
            ImageBuilder.Step(layer: try cache.layer(for: app, writer: writer).layer, createdBy: "app"),
            ImageBuilder.Step(layer: try cache.layer(for: model, writer: writer).layer, createdBy: "model"),
        ])
    }

    @Test("umoci and skopeo accept the layout, with our digest, tags, layers and config")
    func toolsAcceptIt() throws {
        let folder = try TempFolder()
        let image = try Self.buildImage(in: folder)
        let layout = folder.path + "/out/image"
        try OCILayoutWriter(destination: layout).write(image, tags: ["latest", "1.0"])
        #expect(try tool("umoci", "ls", "--layout", layout) == "1.0\nlatest\n")
        let inspected = try JSONSerialization.jsonObject(
            with: Data(try tool("skopeo", "inspect", "oci:\(layout):latest").utf8)) as? [String: Any]
        #expect(inspected?["Digest"] as? String == image.digest.description)
        #expect(inspected?["Layers"] as? [String] == image.layers.map(\.digest.description))
        #expect(image.layers.count == 3)
        let env = inspected?["Env"] as? [String] ?? []
        #expect(env == ["PATH=/usr/bin:/bin", "PORT=8080", "MLPIPE_MODEL_DIR=/model"])
        let config = try JSONSerialization.jsonObject(
            with: Data(try tool("skopeo", "inspect", "--config", "oci:\(layout):1.0").utf8)) as? [String: Any]
        let run = config?["config"] as? [String: Any]
        #expect(run?["Entrypoint"] as? [String] == ["python3", "-m", "mlpipe_serving"])
        #expect(run?["Cmd"] == nil)   // the base's Cmd goes with a new Entrypoint
        #expect(run?["User"] as? String == "65532:65532")
        #expect(run?["WorkingDir"] as? String == "/opt/mlpipe/app")
        #expect((run?["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["8080/tcp"])
        #expect(run?["Labels"] as? [String: String] == ["team": "ml"])
        #expect((config?["history"] as? [[String: Any]])?.suffix(2).map { $0["created_by"] as? String } == ["app", "model"])
        #expect(config?["created"] as? String == "2025-11-30T12:00:00Z")
    }

    @Test("umoci unpacks the image: the base's file and ours, with our modes and owners, the link kept")
    func unpack() throws {
        let folder = try TempFolder()
        let image = try Self.buildImage(in: folder)
        let layout = folder.path + "/image"
        try OCILayoutWriter(destination: layout).write(image, tags: ["latest"])
        let bundle = folder.path + "/bundle"
        try tool("umoci", "unpack", "--image", layout + ":latest", bundle)
        let root = bundle + "/rootfs"
        #expect(try String(contentsOfFile: root + "/etc/base.txt", encoding: .utf8) == "from the base\n")
        func mode(_ path: String) throws -> (Int, UInt32, UInt32) {
            let attributes = try FileManager.default.attributesOfItem(atPath: root + path)
            return ((attributes[.posixPermissions] as? Int) ?? -1,
                    UInt32((attributes[.ownerAccountID] as? Int) ?? -1), UInt32((attributes[.groupOwnerAccountID] as? Int) ?? -1))
        }
        #expect(try mode("/model/mlpipe-model.json") == (0o644, 0, 0))
        #expect(try mode("/model/model") == (0o755, 0, 0))
        #expect(try mode("/opt/mlpipe/app/run.sh") == (0o755, 0, 0))
        #expect(try mode("/opt/mlpipe/app/mlpipe_serving/__main__.py") == (0o644, 0, 0))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/model/current") == "model/model.onnx")
        let modified = try FileManager.default.attributesOfItem(atPath: root + "/model/mlpipe-model.json")[.modificationDate] as? Date
        #expect(modified == Date(timeIntervalSince1970: 1_764_504_000))
    }

    @Test("the same inputs built twice give the same manifest and config bytes")
    func stableDigest() throws {
        let folder = try TempFolder()
        let one = try Self.buildImage(in: folder)
        let other = try TempFolder()
        let two = try Self.buildImage(in: other)
        // Different umoci bases (their own time) but the same layers on top: compare ours.
        #expect(Array(one.layers.dropFirst().map(\.digest)) == Array(two.layers.dropFirst().map(\.digest)))
        let rebuilt = try Self.buildImage(in: folder)
        #expect(rebuilt.manifestBytes == one.manifestBytes)
        #expect(rebuilt.configBytes == one.configBytes)
        let text = String(decoding: one.manifestBytes, as: UTF8.self)
        #expect(text.hasPrefix("{\"annotations\":{\"org.opencontainers.image.revision\":"))
        #expect(text.hasSuffix("\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"schemaVersion\":2}"))
    }

    @Test("the reader reads back the image the writer wrote, by tag")
    func roundTrip() throws {
        let folder = try TempFolder()
        let image = try Self.buildImage(in: folder)
        let layout = folder.path + "/image"
        try OCILayoutWriter(destination: layout).write(image, tags: ["v1", "v2"])
        let reader = OCILayoutReader(path: layout)
        #expect(try reader.tags() == ["v1", "v2"])
        let read = try reader.image(tag: "v2")
        #expect(read.digest == image.digest)
        #expect(read.layers.map(\.diffID) == image.layers.map(\.diffID))
        #expect(read.config.config.entrypoint == ["python3", "-m", "mlpipe_serving"])
        #expect {
            try reader.image(tag: "v3")
        } throws: { "\($0)" == "the layout '\(layout)' has no image tagged 'v3'; its tags are: v1, v2" }
        #expect {
            try reader.image()
        } throws: { "\($0)".contains("has 2 images; name one as \(layout):TAG (tags: v1, v2)") }
    }

    @Test("a folder that is not an OCI layout is refused, naming it and how to make one")
    func notALayout() throws {
        let folder = try TempFolder()
        try folder.write("plain/readme.txt", "hello")
        #expect {
            try OCILayoutReader(path: folder.path + "/plain").image()
        } throws: { error in
            let error = error as? ImageError
            return error?.code == .notALayout && error?.description == "'\(folder.path)/plain' is not an OCI image "
                + "layout: it has no oci-layout file; make one with `make base-image`, `skopeo copy "
                + "docker://IMAGE oci:DIR:TAG` or `umoci init`"
        }
        #expect {
            try OCILayoutReader(path: folder.path + "/absent").image()
        } throws: { ($0 as? ImageError)?.code == .notFound && "\($0)".contains("'\(folder.path)/absent' does not exist") }
    }

    @Test("a layout with a missing layer blob is refused, naming the blob")
    func missingBlob() throws {
        let folder = try TempFolder()
        let layout = try makeBaseLayout(in: folder)
        let image = try OCILayoutReader(path: layout).image(tag: "base")
        try FileManager.default.removeItem(atPath: image.layers[0].path)
        #expect {
            try OCILayoutReader(path: layout).image(tag: "base")
        } throws: { "\($0)".contains("the layer \(image.layers[0].digest) of 'base' is missing") }
    }

    @Test("a failed write leaves neither a layout nor a temporary folder; a rewrite replaces the old layout")
    func atomicWrite() throws {
        let folder = try TempFolder()
        var image = try Self.buildImage(in: folder)
        let out = folder.path + "/out"
        let layout = out + "/image"
        try OCILayoutWriter(destination: layout).write(image, tags: ["old"])
        var broken = image
        broken.layers[1].path = folder.path + "/no-such-blob"
        #expect(throws: ImageError.self) { try OCILayoutWriter(destination: out + "/other").write(broken, tags: ["x"]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["image"])
        image.manifest.annotations?[OCIAnnotation.title] = "changed"
        try OCILayoutWriter(destination: layout).write(image, tags: ["new"])
        #expect(try OCILayoutReader(path: layout).tags() == ["new"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["image"])
    }
}
