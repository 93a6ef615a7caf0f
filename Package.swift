// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Lifeboat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lifeboat", targets: ["lifeboat"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        // The fake tenant's HTTP server; traits off: no swift-configuration, less to build.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0", traits: []),
        // X.509 certificates for the fake token endpoint's certificate credentials.
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        // System libraries with small non-variadic shims.
        .systemLibrary(
            name: "CLifeboatSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CLifeboatCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),

        // Foundation-level building blocks.
        .target(name: "LifeboatJSON"),
        .target(name: "LifeboatSQLite", dependencies: ["CLifeboatSQLite"]),

        // The data flow: snapshot → runbook → plan → engine → Graph client → transport.
        .target(
            name: "LifeboatGraph",
            dependencies: [
                "LifeboatJSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The live transport: libcurl's multi interface on a thread of its own.
        .target(name: "LifeboatCurl", dependencies: ["CLifeboatCurl", "LifeboatGraph"]),
        .target(
            name: "LifeboatSnapshot",
            dependencies: [
                "LifeboatJSON",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // `lifeboat snapshot capture` / `verify`: reads a tenant into a snapshot, signs and checks it.
        .target(
            name: "LifeboatCapture",
            dependencies: [
                "LifeboatGraph", "LifeboatSnapshot", "LifeboatJSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]),
        // Importers of other tools' exports (EntraExporter, PowerShell CSV) and the snapshot summary.
        .target(name: "LifeboatImport", dependencies: ["LifeboatJSON", "LifeboatSnapshot"]),
        .target(
            name: "LifeboatRunbook",
            dependencies: [
                "Yams", "LifeboatJSON",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(
            name: "LifeboatEngine",
            dependencies: [
                "LifeboatJSON", "LifeboatSQLite", "LifeboatGraph", "LifeboatSnapshot", "LifeboatRunbook",
            ]),
        .target(
            name: "LifeboatFakeTenant",
            dependencies: [
                "LifeboatJSON", "LifeboatSQLite", "LifeboatGraph", "LifeboatSnapshot", "Yams",
                .product(name: "HeapModule", package: "swift-collections"),
                // Profiles/ and Resources/ are compiled in (FakeTenantResources.swift, Scripts/embed-resources.py): a copied binary needs no bundle.
            ], exclude: ["Profiles", "Resources"]),
        .target(
            name: "LifeboatFakeServer",
            dependencies: [
                "LifeboatFakeTenant", "LifeboatGraph", "LifeboatJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ]),
        // Tabletop exercises: scenarios, injected events, the RTO estimate's bookkeeping, what-if runs, the gate prompt.
        .target(
            name: "LifeboatTabletop",
            dependencies: [
                "LifeboatEngine", "LifeboatFakeTenant", "LifeboatRunbook", "LifeboatSnapshot", "LifeboatGraph", "LifeboatReport", "Yams",
            ]),
        .target(
            name: "LifeboatCLI",
            dependencies: [
                "LifeboatEngine", "LifeboatFakeTenant", "LifeboatFakeServer", "LifeboatSnapshot", "LifeboatRunbook", "LifeboatGraph",
                "LifeboatReport",
                "LifeboatCurl", "LifeboatCapture", "LifeboatTabletop", "LifeboatImport", "LifeboatReadiness",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The readiness verdict: what a snapshot and runbook cannot bring back, before the day they are needed.
        .target(
            name: "LifeboatReadiness",
            dependencies: ["LifeboatEngine", "LifeboatSnapshot", "LifeboatRunbook", "LifeboatJSON", "LifeboatGraph"]),
        .target(
            name: "LifeboatReport",
            dependencies: ["LifeboatEngine", "LifeboatSnapshot", "LifeboatJSON"],
            // Templates/ is compiled in (ReportResources.swift, Scripts/embed-resources.py).
            exclude: ["Templates"]
        ),
        .executableTarget(name: "lifeboat", dependencies: ["LifeboatCLI"]),

        // Tests only: temporary directories and child processes that end with the test, the tabletop drill, fixtures.
        .target(
            name: "LifeboatTestSupport",
            dependencies: [
                "LifeboatJSON", "LifeboatSnapshot", "LifeboatFakeTenant", "LifeboatGraph", "LifeboatEngine", "LifeboatRunbook",
            ]),
        // Tests only: the one way tests serve a fake tenant over HTTP on 127.0.0.1, port 0.
        .target(name: "LifeboatServedFake", dependencies: ["LifeboatFakeServer", "LifeboatFakeTenant", "LifeboatTestSupport"]),
        // A Graph- and sign-in-like server on 127.0.0.1, port 0, for the live-path tests.
        .target(
            name: "LifeboatTestServer",
            dependencies: [
                "LifeboatJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .testTarget(
            name: "LifeboatGraphTests",
            dependencies: [
                "LifeboatGraph",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "LifeboatCurlTests",
            dependencies: [
                "LifeboatCurl", "LifeboatGraph", "LifeboatJSON", "LifeboatTestServer", "LifeboatTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "LifeboatCaptureTests",
            dependencies: [
                "LifeboatCapture", "LifeboatFakeServer", "LifeboatFakeTenant", "LifeboatCurl", "LifeboatTestServer", "LifeboatTestSupport",
                "LifeboatServedFake",
                "lifeboat",
            ]),
        .testTarget(name: "LifeboatSnapshotTests", dependencies: ["LifeboatSnapshot", "LifeboatTestSupport"]),
        .testTarget(name: "LifeboatSQLiteTests", dependencies: ["LifeboatSQLite", "LifeboatTestSupport"]),
        .testTarget(
            name: "LifeboatImportTests",
            dependencies: [
                "LifeboatImport", "LifeboatSnapshot", "LifeboatEngine", "LifeboatRunbook", "LifeboatJSON", "LifeboatTestSupport",
            ]),
        .testTarget(name: "LifeboatRunbookTests", dependencies: ["LifeboatRunbook", "LifeboatEngine", "LifeboatTestSupport"]),
        .testTarget(
            name: "LifeboatEngineTests",
            dependencies: [
                "LifeboatEngine", "LifeboatFakeTenant", "LifeboatTestSupport",
            ]),
        .testTarget(name: "LifeboatFakeTenantTests", dependencies: ["LifeboatFakeTenant", "LifeboatGraph", "LifeboatTestSupport"]),
        .testTarget(
            name: "LifeboatFakeServerTests",
            dependencies: [
                "LifeboatFakeServer", "LifeboatFakeTenant", "LifeboatTestSupport", "LifeboatServedFake", "LifeboatCurl", "LifeboatGraph",
                "LifeboatJSON",
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
            ], exclude: ["conformance-unsupported.txt"]),
        .testTarget(
            name: "LifeboatCLITests",
            dependencies: [
                "LifeboatCLI", "lifeboat", "LifeboatTestSupport", "LifeboatGraph", "LifeboatFakeServer", "LifeboatFakeTenant",
                "LifeboatSnapshot",
                "LifeboatTestServer", "LifeboatEngine", "LifeboatServedFake",
            ]),
        .testTarget(
            name: "LifeboatTabletopTests",
            dependencies: [
                "LifeboatTabletop", "LifeboatEngine", "LifeboatFakeTenant", "LifeboatReport", "LifeboatRunbook", "LifeboatTestSupport",
                "LifeboatGraph",
            ]),
        .testTarget(
            name: "LifeboatReadinessTests",
            dependencies: [
                "LifeboatReadiness", "LifeboatEngine", "LifeboatTestSupport", "LifeboatFakeTenant", "LifeboatGraph", "LifeboatRunbook",
                "LifeboatSnapshot",
            ]),
        .testTarget(
            name: "LifeboatReportTests",
            dependencies: [
                "LifeboatReport", "LifeboatEngine", "LifeboatFakeTenant", "LifeboatRunbook", "LifeboatGraph", "LifeboatTestSupport",
            ],
            resources: [.copy("Golden")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
