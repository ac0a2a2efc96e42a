import Foundation
import Testing
@testable import PipelineEngine

@Suite("The cache key's canonical encoding")
struct CacheKeyTests {
    static let sample = KeyComponents(
        kind: "command", kindVersion: "1", run: "python3 \"train.py\" --out ${{ outputs.model }}\n\tdone\u{1}",
        with: nil, env: ["Z": "last", "A": "first", "É": "accent", "B\\": "back\\slash"],
        params: ["c": "1.0"], secrets: ["TOKEN"], inputs: ["data/x.csv": "abc", "": "tree"],
        upstream: ["prepare.train": "sha256:00"], outputs: ["model": "model.onnx"], metrics: nil)

    @Test("it is JSON with every object's keys sorted, absent optionals left out, and decodes to the same fields")
    func roundTrip() throws {
        let json = Self.sample.canonicalJSON
        #expect(KeyComponents.decode(json) == Self.sample)
        #expect(json.hasPrefix(#"{"env":{"A":"first","B\\":"back\\slash","Z":"last","É":"accent"},"format":1,"inputs":{"":"tree","data/x.csv":"abc"},"kind":"command","kindVersion":"1","outputs""#))
        #expect(!json.contains("\"with\"") && !json.contains("\"metrics\""))
        #expect(json.contains(#""run":"python3 \"train.py\" --out ${{ outputs.model }}\n\tdone\u0001""#))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object.count == 10)
    }

    @Test("the key is sha256 of the encoding, and any field that changes changes it")
    func keyFollowsEveryField() {
        let base = Self.sample
        #expect(base.key == KeyComponents.key(ofCanonicalJSON: base.canonicalJSON))
        #expect(base.key.hasPrefix("sha256:") && base.key.count == 71)
        // One change per field: all twelve of KeyComponents' stored properties.
        var changed: [KeyComponents] = []
        var copy = base; copy.format = 2; changed.append(copy)
        copy = base; copy.kind = "validate"; changed.append(copy)
        copy = base; copy.kindVersion = "2"; changed.append(copy)
        copy = base; copy.run = "other"; changed.append(copy)
        copy = base; copy.with = "{}"; changed.append(copy)
        copy = base; copy.env["A"] = "other"; changed.append(copy)
        copy = base; copy.params["c"] = "2.0"; changed.append(copy)
        copy = base; copy.secrets = ["TOKEN", "OTHER"]; changed.append(copy)
        copy = base; copy.inputs["data/x.csv"] = "abd"; changed.append(copy)
        copy = base; copy.upstream["prepare.train"] = "sha256:01"; changed.append(copy)
        copy = base; copy.outputs["model"] = "model2.onnx"; changed.append(copy)
        copy = base; copy.metrics = "metrics.json"; changed.append(copy)
        #expect(Mirror(reflecting: base).children.count == changed.count, "a field was added to the key: add its change here")
        #expect(Set(changed.map(\.key) + [base.key]).count == changed.count + 1)
    }
}
