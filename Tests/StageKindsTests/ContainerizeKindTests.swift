import Foundation
import PipelineEngine
import PipelineSpec
@testable import StageKinds
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("kind: containerize")
struct ContainerizeKindTests {
    let kind = ContainerizeKind()

    @Test("builds a layout skopeo reads, reports its digest and reference, and reuses every layer next time")
    func buildsAndReuses() async throws {
        let fixture = try ContainerizeFixture()
        let settings = try ContainerizeFixture.settings(
            #"{"package": "package", "tags": ["1.0", "latest"], "labels": {"team": "ml"}, "docker_archive": true}"#)
        let context = try fixture.context()
        let result = try await kind.run(context, settings: settings)
        let layout = context.outputs["image"]!
        guard case .string(let digest)? = result.results["digest"] else {
            Issue.record("no digest in \(result.results)")
            return
        }
        #expect(result.results["reference"] == .string(layout + "@" + digest))
        let inspected = try JSONSerialization.jsonObject(
            with: Data(try containerizeTool("skopeo", "inspect", "oci:\(layout):1.0").utf8)) as? [String: Any]
        #expect(inspected?["Digest"] as? String == digest)
        #expect((inspected?["Layers"] as? [String])?.count == 4)
        #expect(inspected?["Env"] as? [String] == [
            "PATH=/usr/bin:/bin", "MLPIPE_MODEL_DIR=/model", "PORT=8080",
            "PYTHONPATH=/opt/mlpipe/app:/opt/mlpipe/site-packages",
        ])
        #expect(inspected?["Labels"] as? [String: String] == ["team": "ml"])
        let config = try JSONSerialization.jsonObject(
            with: Data(try containerizeTool("skopeo", "inspect", "--config", "oci:\(layout):latest").utf8)) as? [String: Any]
        let run = config?["config"] as? [String: Any]
        #expect(run?["Entrypoint"] as? [String] == ["python3", "-m", "mlpipe_serving"])
        #expect(run?["User"] as? String == "65532:65532")
        #expect(run?["WorkingDir"] as? String == "/opt/mlpipe/app")
        #expect(config?["created"] as? String == "2025-11-30T12:00:00Z")
        let manifest = try JSONSerialization.jsonObject(
            with: Data(try containerizeTool("skopeo", "inspect", "--raw", "oci:\(layout):latest").utf8)) as? [String: Any]
        let annotations = manifest?["annotations"] as? [String: String]
        #expect(annotations?["org.opencontainers.image.revision"] == String(repeating: "c", count: 40))
        #expect(annotations?["org.opencontainers.image.title"] == "iris")
        #expect(annotations?["org.opencontainers.image.created"] == "2025-11-30T12:00:00Z")
        #expect(annotations?["org.opencontainers.image.version"]?.hasPrefix("sha256:") == true)
        #expect(FileManager.default.fileExists(atPath: context.outputDirectory + "/image.tar"))

        // The app layer leaves the template's tests and Dockerfile out.
        let bundle = fixture.root + "/bundle"
        try containerizeTool("umoci", "unpack", "--image", layout + ":latest", bundle)
        #expect(FileManager.default.fileExists(atPath: bundle + "/rootfs/opt/mlpipe/app/mlpipe_serving/__main__.py"))
        #expect(!FileManager.default.fileExists(atPath: bundle + "/rootfs/opt/mlpipe/app/tests"))
        #expect(!FileManager.default.fileExists(atPath: bundle + "/rootfs/opt/mlpipe/app/Dockerfile"))
        #expect(FileManager.default.fileExists(atPath: bundle + "/rootfs/model/model/model.onnx"))

        // A second run (a new output folder, the same inputs): the same digest, nothing written.
        let again = try fixture.context(run: 2)
        let second = try await kind.run(again, settings: settings)
        #expect(second.results["digest"] == .string(digest))
        let log = try fixture.log(run: 2)
        #expect(log.components(separatedBy: ", reused in").count - 1 == 3, "\(log)")
        #expect(!log.contains(", written in"))
    }

    @Test("two checkouts in different folders, with other file times, build the same image digest")
    func sameDigestFromTwoCheckouts() async throws {
        let first = try ContainerizeFixture()
        let second = try ContainerizeFixture()
        // Other times and modes on the second checkout's files, as another clone has.
        for file in ["package/mlpipe-model.json", "package/model/model.onnx", "templates/serving/python/requirements.txt"] {
            var times = [timespec(tv_sec: 86_400, tv_nsec: 0), timespec(tv_sec: 86_400, tv_nsec: 0)]
            utimensat(AT_FDCWD, second.root + "/" + file, &times, 0)
            chmod(second.root + "/" + file, 0o600)
        }
        // One base for both (a base is built once per machine; see templates/base/README.md).
        let settings = try ContainerizeFixture.settings(
            "{\"package\": \"package\", \"base\": \"\(first.root)/workspace/base/oci\"}")
        let one = try await kind.run(try first.context(), settings: settings)
        let two = try await kind.run(try second.context(), settings: settings)
        #expect(one.results["digest"] != nil)
        #expect(one.results["digest"] == two.results["digest"])
    }

    @Test("SOURCE_DATE_EPOCH, when set, is the image's time instead of the commit's")
    func sourceDateEpoch() async throws {
        let fixture = try ContainerizeFixture()
        let settings = try ContainerizeFixture.settings(#"{"package": "package"}"#)
        let context = try fixture.context(environment: ["SOURCE_DATE_EPOCH": "0"])
        _ = try await kind.run(context, settings: settings)
        let config = try JSONSerialization.jsonObject(with: Data(try containerizeTool(
            "skopeo", "inspect", "--config", "oci:\(context.outputs["image"]!):latest").utf8)) as? [String: Any]
        #expect(config?["created"] as? String == "1970-01-01T00:00:00Z")
    }

    @Test("a package that does not exist fails the stage, naming it and what to point at")
    func missingPackage() async throws {
        let fixture = try ContainerizeFixture()
        let context = try fixture.context()
        await #expect {
            _ = try await kind.run(context, settings: try ContainerizeFixture.settings(#"{"package": "nowhere"}"#))
        } throws: { error in
            "\(error)" == "containerize: the package 'nowhere' does not exist (looked at \(fixture.root)/nowhere); "
                + "point `package:` at the folder a `serialize` stage writes, for example "
                + "${{ stages.package.outputs.package }}"
        }
        #expect(!FileManager.default.fileExists(atPath: context.outputs["image"]!))
    }

    @Test("a folder without mlpipe-model.json is not a package")
    func notAPackage() async throws {
        let fixture = try ContainerizeFixture()
        try fixture.write("loose/model.onnx", "x")
        await #expect {
            _ = try await kind.run(try fixture.context(), settings: try ContainerizeFixture.settings(#"{"package": "loose"}"#))
        } throws: { "\($0)".contains("'loose' is not a model package: it has no mlpipe-model.json") }
    }

    @Test("a template requirements.txt that cannot be read as text fails the stage, naming it")
    func unreadableRequirements() async throws {
        let fixture = try ContainerizeFixture()
        let file = fixture.root + "/templates/serving/python/requirements.txt"
        try Data([0x66, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: file))
        await #expect {
            _ = try await kind.run(try fixture.context(), settings: try ContainerizeFixture.settings(#"{"package": "package"}"#))
        } throws: { "\($0)".hasPrefix("containerize: cannot read \(file) (") }
    }

    @Test("a base that is not an OCI layout fails the stage, naming it, and writes no layout")
    func badBase() async throws {
        let fixture = try ContainerizeFixture()
        try fixture.write("not-a-layout/README", "hello")
        let context = try fixture.context()
        await #expect {
            _ = try await kind.run(context, settings: try ContainerizeFixture.settings(
                #"{"package": "package", "base": "not-a-layout"}"#))
        } throws: { error in
            "\(error)" == "containerize: base image: '\(fixture.root)/not-a-layout' is not an OCI image layout: it has "
                + "no oci-layout file; make one with `make base-image`, `skopeo copy docker://IMAGE oci:DIR:TAG` "
                + "or `umoci init`"
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: context.outputDirectory).isEmpty)
    }

    @Test("a registry base in a registry that is not running fails the stage, naming the base and the registry")
    func registryBase() async throws {
        let fixture = try ContainerizeFixture()
        let registry = "127.0.0.1:\(try freePort())"
        let reference = registry + "/python@sha256:" + String(repeating: "a", count: 64)
        await #expect {
            _ = try await kind.run(try fixture.context(), settings: try ContainerizeFixture.settings(
                "{\"package\": \"package\", \"base\": \"\(reference)\"}"))
        } throws: {
            "\($0)".hasPrefix("containerize: base image \(reference): cannot reach registry \(registry)")
        }
    }

    @Test("push without a registry client fails the stage after the layout is written, saying how to push by hand")
    func pushNotWired() async throws {
        let fixture = try ContainerizeFixture()
        let settings = try ContainerizeFixture.settings(
            #"{"package": "package", "push": {"registry": "127.0.0.1:5000", "repository": "ml/iris"}}"#)
        await #expect {
            _ = try await kind.run(try fixture.context(), settings: settings)
        } throws: { "\($0)".contains("skopeo copy oci:") && "\($0)".contains("docker://127.0.0.1:5000/ml/iris:latest") }
    }

    @Test("push hands the image to the registry client and reports REGISTRY/REPO@digest")
    func pushThroughClient() async throws {
        let fixture = try ContainerizeFixture()
        let settings = try ContainerizeFixture.settings(#"""
            {"package": "package", "push": {"registry": "127.0.0.1:5000", "repository": "ml/iris",
             "username": "ci", "password_secret": "REGISTRY_PASSWORD"}}
            """#)
        let pushing = ContainerizeKind { request in
            #expect(request.password == "s3cret" && request.username == "ci" && request.tags == ["latest"])
            return request.image.digest.description
        }
        #expect(pushing.secrets(for: settings) == ["REGISTRY_PASSWORD"])
        var context = try fixture.context()
        context.secrets = ["REGISTRY_PASSWORD": "s3cret"]
        let result = try await pushing.run(context, settings: settings)
        guard case .string(let digest)? = result.results["digest"] else { return }
        #expect(result.results["reference"] == .string("127.0.0.1:5000/ml/iris@" + digest))
    }

    @Test("settings: bad tags, repositories and compressions are refused with what is allowed")
    func settingsChecks() throws {
        #expect(throws: (any Error).self) { try ContainerizeFixture.settings(#"{"package": "p", "tags": [".bad"]}"#) }
        #expect(throws: (any Error).self) {
            try ContainerizeFixture.settings(#"{"package": "p", "push": {"registry": "r", "repository": "Bad/Name"}}"#)
        }
        #expect(throws: (any Error).self) { try ContainerizeFixture.settings(#"{"package": "p", "compression": "zstd"}"#) }
        let defaults = try ContainerizeFixture.settings(#"{"package": "p"}"#)
        #expect(defaults.tags == ["latest"] && defaults.template == "templates/serving/python" && !defaults.dockerArchive)
    }

    @Test("containerize is registered with its results")
    func registered() throws {
        let registered = try #require(BuiltinKinds.registry().kinds["containerize"])
        #expect(registered.schema.results.sorted() == ["baseDigest", "digest", "reference"])
    }
}
