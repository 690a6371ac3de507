// swift-tools-version:6.1
// Bottle Supervise: a human-in-the-loop gate for sandboxed coding agents.
//
// One target per concern, so the architecture in docs/architecture.md can be
// read off the folder list:
//   CLinuxCalls — the Linux calls Swift's Glibc module leaves out (C).
//   FileAccess — the file layer: atomic writes, directory descriptors, the
//               owner-only secret reader, with its own error type.
//   Queue     — the domain (bottle, proposal, decision) and the file queue
//               shared by sidecar and host; validation of proposed files.
//   Risk      — risk hints for the operator (host side only).
//   Sidecar   — the MCP server inside the bottle's network.
//   Apply     — turning an approved proposal into a running config.
//   Console   — the operator's TUI, notifications and review rendering.
//   WebConsole — the operator's console as a web page (Hummingbird, on the host).
//   Fleet     — many hosts, one view: each host's relay mirrors its queue into
//               PostgreSQL and applies decisions made elsewhere (postgres-nio).
//   SidecarCommandLine — `serve` and `health`, shared by both executables.
//   bottle-supervise — the thin executable wiring the above to a command line.
//   bottle-supervise-sidecar — the sidecar alone (serve, health): no Foundation
//               in its module closure, so the container image carries no ICU.
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "bottle-supervise",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bottle-supervise", targets: ["bottle-supervise"]),
        .executable(name: "bottle-supervise-sidecar", targets: ["bottle-supervise-sidecar"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // ServerQuiescingHelper: the sidecar's graceful shutdown (already resolved through Hummingbird).
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        // 4.x: on Linux it imports FoundationEssentials, where 3.x imported Foundation (and with it ICU).
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Linux calls Swift's Glibc module leaves out (docs/architecture.md, "Hand-written").
        .target(name: "CLinuxCalls"),
        // The file layer (atomic writes, directory descriptors, owner-only secrets): no Foundation.
        .target(
            name: "FileAccess",
            dependencies: ["CLinuxCalls", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict
        ),
        .target(
            name: "Queue",
            dependencies: [
                "CLinuxCalls", "FileAccess",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Risk hints: what a proposal opens, for the operator's eyes (host side only; the sidecar never links it).
        .target(name: "Risk", dependencies: ["Queue"], swiftSettings: strict),
        .target(
            name: "Sidecar",
            dependencies: [
                "FileAccess", "Queue",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Apply",
            dependencies: [
                "FileAccess", "Queue",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Console",
            dependencies: [
                "FileAccess", "Queue",
                "Apply",
                "Risk",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "WebConsole",
            dependencies: [
                "FileAccess", "Queue", "Apply", "Console", "Fleet", "Risk",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Fleet",
            dependencies: [
                "FileAccess", "Queue", "Apply", "Console", "Risk",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        // `serve` and `health` with their settings and the exit statuses: no Foundation (FoundationEssentials).
        .target(
            name: "SidecarCommandLine",
            dependencies: [
                "Queue", "Sidecar",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                // IOError only: a port in use is reported with the port and what to do (ListenFailure).
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "bottle-supervise-sidecar",
            dependencies: [
                "Queue", "SidecarCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "bottle-supervise",
            dependencies: [
                "FileAccess", "Queue", "Sidecar", "SidecarCommandLine", "Apply", "Console", "WebConsole", "Fleet", "Risk",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                // IOError only: a port in use is reported with the port and what to do (ListenFailure).
                .product(name: "NIOCore", package: "swift-nio"),
                // `web` hands its grant expiry to the page's service group.
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "queue-latency",
            dependencies: ["FileAccess", "Queue"],
            path: "bench/queue-latency",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "audit-append",
            dependencies: ["Apply", "Queue", .product(name: "SystemPackage", package: "swift-system")],
            path: "bench/audit-append",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "held-calls-client",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "bench/held-calls-client",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "fleet-relay",
            dependencies: ["Fleet", "Queue", "PostgresTestSupport"],
            path: "bench/fleet-relay",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "fleet-scale",
            dependencies: ["Fleet", "Queue", "Risk", "PostgresTestSupport"],
            path: "bench/fleet-scale",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "fleet-store",
            dependencies: ["Fleet", "Queue", "PostgresTestSupport"],
            path: "bench/fleet-store",
            swiftSettings: strict
        ),
        // A real PostgreSQL per test (initdb once per process, then a copy): Fleet and end-to-end tests.
        .target(name: "PostgresTestSupport", path: "Tests/Support/PostgresTestSupport", swiftSettings: strict),
        // `eventually`: the one wait-on-a-condition helper of the unit test targets.
        .target(name: "Eventually", path: "Tests/Support/Eventually", swiftSettings: strict),
        .testTarget(name: "FileAccessTests", dependencies: ["FileAccess"], swiftSettings: strict),
        .testTarget(name: "QueueTests", dependencies: ["FileAccess", "Queue", "Eventually"], swiftSettings: strict),
        .testTarget(name: "RiskTests", dependencies: ["Risk", "Queue"], swiftSettings: strict),
        .testTarget(
            name: "SidecarTests",
            dependencies: [
                "Sidecar", "Queue", "Eventually", .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                // A real server's graceful shutdown, triggered by the test (SidecarDrainTests).
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .testTarget(name: "ApplyTests", dependencies: ["Apply", "FileAccess", "Queue", "Eventually"], swiftSettings: strict),
        .testTarget(
            name: "ConsoleTests", dependencies: ["Console", "FileAccess", "Queue", "Apply", "Risk", "Eventually"],
            swiftSettings: strict),
        .testTarget(
            name: "WebConsoleTests",
            dependencies: [
                "WebConsole", "FileAccess", "Queue", "Apply", "Fleet", "Risk", "PostgresTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "FleetTests",
            dependencies: ["Fleet", "FileAccess", "Queue", "Apply", "Console", "Risk", "PostgresTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["FileAccess", "Queue", "Apply", "Fleet", "PostgresTestSupport"],
            exclude: ["fixtures", "python"],
            swiftSettings: strict
        ),
    ]
)
