import Foundation
import ModelPackage
import Testing

@Suite("requirements are pinned")
struct RequirementTests {
    @Test("an unpinned requirement is refused before anything is copied, saying how to pin it")
    func unpinnedRefused() throws {
        let folder = try TemporaryFolder()
        let model = try folder.copy(try PackageFixtures.path("iris.onnx"), to: "iris.onnx")
        var builder = builder(model)
        builder.requirements = ["numpy==2.4.6", "onnxruntime"]
        let error = packageError { _ = try builder.build(at: folder.path + "/package") }
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "'onnxruntime' is not pinned; write name==version, for example numpy==2.4.6")
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/package"))
    }

    @Test("ranges, wildcards, markers and URLs are refused, each saying why")
    func notPins() {
        let cases: [(String, String)] = [
            ("numpy>=2", "'numpy>=2' is a range, not one pinned version"),
            ("numpy~=2.4", "'numpy~=2.4' is a range, not one pinned version"),
            ("numpy==2.*", "'numpy==2.*' is a wildcard, not one pinned version"),
            ("numpy==2.4.6; python_version>'3'", "'numpy==2.4.6; python_version>'3'' has an environment marker"),
            ("pkg @ https://x/pkg.whl", "'pkg @ https://x/pkg.whl' is a URL or a direct reference"),
            ("numpy===2.4.6", "'numpy===2.4.6' uses ==="),
            ("==2.4.6", "'==2.4.6' does not start with a package name"),
            ("numpy==", "'numpy==' has no valid version after =="),
        ]
        for (line, message) in cases {
            let error = packageError { _ = try Requirement(parsing: line) }
            #expect(error?.message.hasPrefix(message) == true, "\(line): \(String(describing: error))")
            #expect(error?.message.hasSuffix("; write name==version, for example numpy==2.4.6") == true)
        }
    }

    @Test("pins are sorted by normalised name, extras kept, spaces dropped; a package named twice is refused")
    func sortedAndUnique() throws {
        let pins = try Requirement.pins(["scipy==1.17.1", " Scikit_Learn == 1.9.1", "onnxruntime[cuda]==1.32.0"])
        #expect(pins.map(\.description) == ["onnxruntime[cuda]==1.32.0", "Scikit_Learn==1.9.1", "scipy==1.17.1"])
        let error = packageError { _ = try Requirement.pins(["scikit-learn==1.9.1", "scikit_learn==1.9.0"]) }
        #expect(error?.message == "'scikit_learn==1.9.0' and 'scikit-learn==1.9.1' name the same package; "
                + "keep one pin per package")
    }

    @Test("given requirements replace the flavor's defaults")
    func givenReplaceDefaults() throws {
        let folder = try TemporaryFolder()
        let model = try folder.copy(try PackageFixtures.path("iris.onnx"), to: "iris.onnx")
        var builder = builder(model)
        builder.requirements = ["onnxruntime==1.31.0", "numpy==2.3.0"]
        let manifest = try builder.build(at: folder.path + "/package").package.manifest
        #expect(manifest.requirements == ["numpy==2.3.0", "onnxruntime==1.31.0"])
    }

    @Test("model names that would not fit a URL are refused")
    func names() {
        #expect(PackageBuilder.problem(withName: "iris-classifier_v2.1") == nil)
        #expect(PackageBuilder.problem(withName: "iris classifier")?.hasPrefix("'iris classifier' is not a model name") == true)
        #expect(PackageBuilder.problem(withName: "-iris") != nil)
        #expect(PackageBuilder.problem(withName: "") != nil)
        #expect(PackageBuilder.problem(withName: "a/b") != nil)
    }
}
