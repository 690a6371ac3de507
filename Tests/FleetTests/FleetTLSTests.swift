import Fleet
import Foundation
import PostgresTestSupport
import Testing

@Suite("Fleet database over TLS", .enabled(if: FleetTestDatabase.isAvailable), .serialized)
struct FleetTLSTests {
    /// A server with TLS on (its certificate names `localhost` only), a second authority that did not sign it.
    func withTLSServer(_ body: (PostgresServer, TestCertificates, TestCertificates) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "fleet-tls-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificates = try TestCertificates.make(in: directory + "/good", subjectAltNames: ["DNS:localhost"])
        let stranger = try TestCertificates.make(in: directory + "/other", subjectAltNames: ["DNS:localhost"])
        let server = try await PostgresServer.start(tls: certificates)
        try server.createDatabase("fleet")
        try await body(server, certificates, stranger)
    }

    func connect(_ url: String) async throws {
        var settings = try FleetDatabaseSettings.parse(url, source: "--database")
        settings.password = PostgresServer.superuserPassword
        _ = try await FleetStore.withStore(settings: settings) { store in
            try await store.migrator.migrate()
        }
    }

    @Test("verify-full connects to the server its authority signed, by name, and the session is encrypted")
    func verifiedConnection() async throws {
        try await withTLSServer { server, certificates, _ in
            let url = "postgres://postgres@localhost:\(server.port)/fleet?sslmode=verify-full&sslrootcert=\(certificates.authority)"
            var settings = try FleetDatabaseSettings.parse(url, source: "--database")
            settings.password = PostgresServer.superuserPassword
            try await FleetStore.withStore(settings: settings) { store in
                try await store.migrator.migrate()
                let encrypted = try server.psql(
                    """
                    SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                    WHERE s.ssl AND a.application_name = 'bottle-supervise'
                    """, database: "fleet")
                #expect(Int(encrypted) ?? 0 >= 1, "the pool's connection uses TLS")
            }
        }
    }

    @Test("verify-full refuses a server another authority signed, and a name the certificate does not carry")
    func refusals() async throws {
        try await withTLSServer { server, certificates, stranger in
            let untrusted = await #expect(throws: FleetStoreError.self) {
                try await connect(
                    "postgres://postgres@localhost:\(server.port)/fleet?sslmode=verify-full&sslrootcert=\(stranger.authority)")
            }
            #expect(untrusted?.message.contains("the server's certificate was not accepted") == true, "\(String(describing: untrusted))")
            // The certificate names localhost, not 127.0.0.1: the host check refuses it.
            let misnamed = await #expect(throws: FleetStoreError.self) {
                try await connect(
                    "postgres://postgres@127.0.0.1:\(server.port)/fleet?sslmode=verify-full&sslrootcert=\(certificates.authority)")
            }
            #expect(misnamed?.message.contains("the TLS handshake failed") == true, "\(String(describing: misnamed))")
            // require encrypts without asking who answers: it connects either way.
            try await connect("postgres://postgres@127.0.0.1:\(server.port)/fleet?sslmode=require")
            #expect(try server.psql("SELECT version FROM fleet_schema", database: "fleet") == "\(FleetSchema.version)")
        }
    }
}
