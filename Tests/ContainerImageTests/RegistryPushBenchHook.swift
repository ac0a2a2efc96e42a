import ContainerImage
import Foundation
import Testing

/// The push of `bench/push.sh`, reachable without a CLI command: pushes the image
/// `MLPIPE_BENCH_PUSH_IMAGE` (default `latest`) of the layout `MLPIPE_BENCH_PUSH_LAYOUT` to
/// `MLPIPE_BENCH_PUSH_TARGET` (`host:port/repository:tag`), with default options (or
/// `MLPIPE_BENCH_PUSH_BUFFER_KIB` and `MLPIPE_BENCH_PUSH_CHUNK_MIB`), and prints the reference. Skipped unless the layout is given; `swift test` never runs it.
@Suite("bench/push.sh hook")
struct RegistryPushBenchHook {
    static let environment = ProcessInfo.processInfo.environment

    @Test("pushes the bench layout to the bench registry",
          .enabled(if: environment["MLPIPE_BENCH_PUSH_LAYOUT"] != nil, "run by bench/push.sh"))
    func push() async throws {
        let layout = try #require(Self.environment["MLPIPE_BENCH_PUSH_LAYOUT"])
        let target = try RegistryReference(parsing: try #require(Self.environment["MLPIPE_BENCH_PUSH_TARGET"]))
        var options = RegistryOptions()
        if let kib = Self.environment["MLPIPE_BENCH_PUSH_BUFFER_KIB"].flatMap(Int.init) { options.readBufferSize = kib << 10 }
        if let mib = Self.environment["MLPIPE_BENCH_PUSH_CHUNK_MIB"].flatMap(Int64.init) { options.chunkSize = mib << 20 }
        let result = try await RegistryClient.with(registry: target.registry, options: options) { client in
            try await client.push(layout: URL(fileURLWithPath: layout), image: Self.environment["MLPIPE_BENCH_PUSH_IMAGE"],
                                  repository: target.repository, tags: [target.tag ?? "latest"])
        }
        print("pushed \(result.reference): \(result.blobs.count) blobs, \(result.uploadedBytes) bytes sent")
    }
}
