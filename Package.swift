// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "owl",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "owl", targets: ["owl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        .target(
            name: "OwlCore",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Migrations"), .copy("OpenAPI"), .copy("Web/Templates"), .copy("Web/Assets")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "NightOwl",
            dependencies: ["OwlCore"],
            resources: [.copy("Migrations"), .copy("OpenAPI"), .copy("Runbooks/Templates"), .copy("Console/Pages")],
            swiftSettings: swiftSettings
        ),
        .target(name: "BookOwl", dependencies: ["OwlCore"], swiftSettings: swiftSettings),
        .target(name: "TicketOwl", dependencies: ["OwlCore"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "owl",
            dependencies: [
                "OwlCore", "NightOwl", "BookOwl", "TicketOwl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OwlTestSupport",
            dependencies: [
                "OwlCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Tests/OwlTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "OwlCoreTests", dependencies: ["OwlCore", "OwlTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "NightOwlTests", dependencies: ["NightOwl", "OwlTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "BookOwlTests", dependencies: ["BookOwl", "OwlTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "TicketOwlTests", dependencies: ["TicketOwl", "OwlTestSupport"], swiftSettings: swiftSettings),
    ]
)
