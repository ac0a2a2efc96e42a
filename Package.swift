// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "mlpipe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mlpipe", targets: ["mlpipe"]),
    ],
    dependencies: [
        // argument-parser: one type per command, usage errors rendered in one place.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Yams: YAML nodes keep their Mark (line, column) for diagnostics.
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // GRDB: migrations, WAL and busy handling over the system's SQLite.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        // swift-protobuf: runtime for the ONNX model messages (generated code is committed).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        // async-http-client: registry pushes, the MLflow REST API; streams bodies, pools connections.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        // hdrhistogram-swift: smoke-test latencies, recorded without losing the tail.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        // Hummingbird: the HTTP server of `mlpipe serve`, on the swift-nio we already build.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        // postgres-nio: the shared run store's driver; binds every value, async, on the swift-nio we already build.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages.
        // Opens a shared library with dlopen on the first call into it, so that a process
        // that never calls it does not load it (see lazy_library.h).
        .target(name: "CLazyLibrary"),
        // libgit2 (libgit2-dev's headers), opened on first use, not linked: with the dozen
        // libraries it needs it was a quarter of every process's start-up (see CLibGit2.h).
        .target(name: "CLibGit2", dependencies: ["CLazyLibrary", "CCrypto"]),
        // libcrypto (libssl-dev's headers): the same SHA-256/SHA-1 code as `openssl dgst`,
        // with SHA-NI where the CPU has it; opened on first use, not linked (see CCrypto.h).
        .target(name: "CCrypto", dependencies: ["CLazyLibrary"]),
        // libhdf5 (Debian's libhdf5-dev): reads Keras .h5 attributes (model_config,
        // keras_version); opened with dlopen on first use, not linked (see chdf5.h).
        .target(name: "CHDF5"),
        // zlib: inflates deflated zip members (PyTorch and .keras archives) in a bounded window.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // posix_spawn with a new session and a working folder (glibc's _np call is not
        // visible to Swift without _GNU_SOURCE).
        .target(name: "CSpawn"),
        // sqlite3_db_config, which is variadic and so out of Swift's reach.
        .target(name: "CSQLiteTuning"),
        // Spares libgit2's start-up the parsing of the system's CA bundle (see startup.c).
        // Its one definition only works when the executable exports it; libgit2 is opened
        // with dlopen, so the linker cannot see that it needs to, and is told.
        .target(name: "CGitStartup", linkerSettings: [
            .unsafeFlags(["-Xlinker", "--export-dynamic-symbol=mbedtls_x509_crt_parse_file"], .when(platforms: [.linux])),
        ]),

        // 0. The bytes that are hashed: one JSON string escaper, the canonical JSON writer,
        // SHA-256 and SHA-1 through libcrypto. Every layer above uses it.
        .target(name: "Canonical", dependencies: ["CCrypto"], exclude: ["README.md"]),

        // 1. The pipeline file model: pure, no process, git or database.
        .target(name: "PipelineSpec", dependencies: ["Canonical", .product(name: "Yams", package: "Yams")],
                exclude: ["README.md"]),
        // 2. State: git, content-addressed objects, run history.
        .target(name: "GitState", dependencies: ["Canonical", "CLibGit2", "CGitStartup"],
                exclude: ["README.md"]),
        .target(name: "ArtifactStore", dependencies: ["Canonical"],
                exclude: ["README.md"]),
        .target(name: "RunStore", dependencies: [.product(name: "GRDB", package: "GRDB.swift"), "CSQLiteTuning"],
                exclude: ["README.md"]),
        // The run history, cache index and key locks on PostgreSQL, shared by many machines.
        .target(name: "PostgresRunStore", dependencies: [
            "RunStore", .product(name: "PostgresNIO", package: "postgres-nio"),
            "ModelRegistry",
        ], exclude: ["README.md"]),
        // What every HTTP client shares: retry classification, streamed file bodies.
        .target(name: "HTTPTransport", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], exclude: ["README.md"]),
        // A remote cache over the S3 API: SigV4-signed requests, content-addressed objects and action entries.
        .target(name: "S3Store", dependencies: [
            "Canonical", "ArtifactStore", "CCrypto", "HTTPTransport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], exclude: ["README.md"]),
        // OpenBao / HashiCorp Vault KV v2 reads (token, AppRole, Kubernetes logins), for the `vault` secret provider.
        .target(name: "VaultSecrets", dependencies: [
            "HTTPTransport", .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], exclude: ["README.md"]),
        // Stages as pods: an Argo Workflows DAG and Kubernetes Jobs rendered from plain values, and
        // kubectl to run a Job. Below the engine, which renders a Job for `executor: kubernetes`.
        .target(name: "Orchestration", dependencies: ["Canonical", "PipelineSpec", .product(name: "Yams", package: "Yams")],
                exclude: ["README.md"]),
        // 3. Planning, scheduling, the StageKind protocol and the command kind.
        .target(name: "PipelineEngine", dependencies: ["Canonical", "PipelineSpec", "GitState", "ArtifactStore", "RunStore", "CSpawn", "S3Store",
                                                       "VaultSecrets", "Orchestration", "PostgresRunStore"],
                exclude: ["README.md"]),
        // 4. Capabilities that know nothing of the engine.
        .target(name: "ModelFormats", dependencies: [
            "Canonical", "ArtifactStore", "CHDF5", "CZlib", "CCrypto",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ],
                exclude: ["README.md"]),
        // A model package: the model's files and mlpipe-model.json, byte-for-byte reproducible.
        .target(name: "ModelPackage", dependencies: ["Canonical", "ModelFormats"],
                exclude: ["README.md"]),
        // OCI images without a daemon: reproducible layers, the image layout, a registry client.
        .target(name: "ContainerImage", dependencies: [
            "Canonical", "CZlib", "HTTPTransport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], exclude: ["README.md"]),
        // Model versions, aliases with their history, lineage: local tables or MLflow.
        .target(name: "ModelRegistry", dependencies: [
            "Canonical", "RunStore",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], exclude: ["README.md"]),
        // Deploy targets (a local process, Kubernetes and Knative manifests) and smoke tests.
        .target(name: "Deployment", dependencies: [
            "Canonical", "RunStore", "CSpawn",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ], exclude: ["README.md"]),
        // 5. Adapters from capabilities to the engine's StageKind protocol.
        .target(name: "StageKinds", dependencies: ["PipelineEngine", "ModelFormats", "ModelPackage",
                                                   "ContainerImage", "ModelRegistry", "Deployment"],
                exclude: ["README.md"]),
        // 6. `mlpipe serve`: the history pages, the JSON API, and the JSON shapes of `--json`.
        .target(name: "HistoryServer", dependencies: [
            "Canonical", "PipelineSpec", "PipelineEngine", "RunStore", "ModelRegistry",
            // Webhooks: GitState finds what a push touched; CCrypto checks GitHub's HMAC-SHA256.
            "GitState", "CCrypto",
            .product(name: "Hummingbird", package: "hummingbird"),
        ], exclude: ["README.md"]),
        // 6. Argument parsing and rendering only.
        .executableTarget(name: "mlpipe", dependencies: [
            "StageKinds", "PipelineEngine", "ModelFormats", "ModelRegistry", "ContainerImage", "Deployment", "HistoryServer", "Orchestration",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], exclude: ["README.md"]),

        // Real servers for tests (SeaweedFS, ...): free ports, start, probe, stop by pid.
        .target(name: "TestSupport", dependencies: ["RunStore", .product(name: "AsyncHTTPClient", package: "async-http-client")],
                path: "Tests/TestSupport"),
        .testTarget(name: "CanonicalTests", dependencies: ["Canonical"]),
        .testTarget(name: "PipelineSpecTests", dependencies: ["PipelineSpec"]),
        .testTarget(name: "GitStateTests", dependencies: ["GitState"]),
        .testTarget(name: "ArtifactStoreTests", dependencies: ["ArtifactStore"]),
        .testTarget(name: "RunStoreTests", dependencies: ["RunStore", "TestSupport"]),
        .testTarget(name: "PostgresRunStoreTests", dependencies: ["PostgresRunStore", "RunStore", "TestSupport"]),
        .testTarget(name: "S3StoreTests", dependencies: ["S3Store", "ArtifactStore", "TestSupport"]),
        .testTarget(name: "VaultSecretsTests", dependencies: ["VaultSecrets", "PipelineEngine", "TestSupport"]),
        .testTarget(name: "PipelineEngineTests", dependencies: ["PipelineEngine", "StageKinds", "Orchestration", "TestSupport"]),
        .testTarget(name: "ModelFormatsTests", dependencies: ["ModelFormats"]),
        .testTarget(name: "ModelPackageTests", dependencies: ["ModelPackage"]),
        .testTarget(name: "ContainerImageTests", dependencies: ["ContainerImage", "TestSupport"]),
        .testTarget(name: "ModelRegistryTests", dependencies: ["ModelRegistry", "TestSupport", "PostgresRunStore"]),
        .testTarget(name: "DeploymentTests", dependencies: ["Deployment", "PipelineSpec", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "StageKindsTests", dependencies: ["StageKinds", "PipelineEngine", "TestSupport"]),
        .testTarget(name: "OrchestrationTests", dependencies: ["Orchestration", "PipelineSpec", "TestSupport", .product(name: "Yams", package: "Yams")],
                    exclude: ["Fixtures"]),
        .testTarget(name: "EndToEndTests", dependencies: ["mlpipe", "TestSupport"]),
    ]
)
