import Canonical
import Foundation
import PipelineEngine
import PipelineSpec
@testable import StageKinds
import Testing

/// `verifyCached` of `kind: containerize`, with the registry check injected (the check
/// against a real docker-registry is in EndToEndTests/ImageCommandTests.swift).
@Suite("kind: containerize, checking a cached result")
struct ContainerizeVerifyTests {
    static let digest = "sha256:" + String(repeating: "b", count: 64)
    static let pushed = #"""
        {"package": "package", "push": {"registry": "127.0.0.1:5000", "repository": "ml/iris",
         "username": "ci", "password_secret": "REGISTRY_PASSWORD"}}
        """#

    @Test("a cached pushed image is trusted only while the registry has its manifest, asked with the stage's login")
    func pushedImageIsAsked() async throws {
        let fixture = try ContainerizeFixture()
        let settings = try ContainerizeFixture.settings(Self.pushed)
        let results: [String: Value] = ["digest": .string(Self.digest),
                                        "reference": .string("127.0.0.1:5000/ml/iris@" + Self.digest)]
        var context = try fixture.context(run: 2)
        context.secrets = ["REGISTRY_PASSWORD": "s3cret"]
        for present in [true, false] {
            let kind = ContainerizeKind(checker: { check in
                #expect(check.registry == "127.0.0.1:5000" && check.repository == "ml/iris")
                #expect(check.digest.description == Self.digest)
                #expect(check.username == "ci" && check.password == "s3cret")
                return present
            })
            #expect(kind.cachedResultsLiveOutside)
            #expect(try await kind.verifyCached(results, settings: settings, context: context) == present)
        }
        #expect(try fixture.log(run: 2).contains("is no longer in the registry (404); building and pushing it again"))
    }

    @Test("a registry that cannot be asked is an error, not a miss")
    func unreachableIsAnError() async throws {
        let fixture = try ContainerizeFixture()
        let kind = ContainerizeKind(checker: { _ in throw StageFailure("containerize: cannot reach registry") })
        await #expect(throws: StageFailure.self) {
            _ = try await kind.verifyCached(["digest": .string(Self.digest)],
                                            settings: try ContainerizeFixture.settings(Self.pushed),
                                            context: try fixture.context(run: 2))
        }
    }

    @Test("an unpushed image is trusted while its layout is complete, and not once a blob is gone")
    func unpushedLayout() async throws {
        let fixture = try ContainerizeFixture()
        let settings = try ContainerizeFixture.settings(#"{"package": "package"}"#)
        var context = try fixture.context()
        context.outputs = [:]   // the layout is not a declared output: it stays in the run's folder
        let kind = ContainerizeKind()
        let result = try await kind.run(context, settings: settings)
        var later = try fixture.context(run: 2)
        later.outputs = [:]
        #expect(try await kind.verifyCached(result.results, settings: settings, context: later))

        let layout = context.outputDirectory + "/image"
        let blobs = try FileManager.default.contentsOfDirectory(atPath: layout + "/blobs/sha256")
        let largest = try #require(try blobs.max { a, b in
            try FileManager.default.attributesOfItem(atPath: layout + "/blobs/sha256/" + a)[.size] as? Int ?? 0
                < FileManager.default.attributesOfItem(atPath: layout + "/blobs/sha256/" + b)[.size] as? Int ?? 0
        })
        try FileManager.default.removeItem(atPath: layout + "/blobs/sha256/" + largest)
        #expect(try await !kind.verifyCached(result.results, settings: settings, context: later))
        #expect(try fixture.log(run: 2).contains("is gone or incomplete"))
    }
}
