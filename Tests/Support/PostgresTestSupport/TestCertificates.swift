import Foundation

/// A certificate authority and a server certificate signed by it, made with
/// `openssl` for one test: for a PostgreSQL test server with TLS on, and a
/// client that verifies it (or, with another authority, refuses it).
public struct TestCertificates: Sendable {
    /// The authority's certificate (PEM): a client's `sslrootcert`.
    public let authority: String
    /// The server's certificate (PEM), signed by the authority.
    public let certificate: String
    /// The server's private key (PEM).
    public let key: String

    /// Makes them in `directory`; the server certificate names `subjectAltNames`
    /// (`DNS:localhost`, `IP:127.0.0.1`).
    public static func make(in directory: String, subjectAltNames: [String]) throws -> TestCertificates {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let openssl = "/usr/bin/openssl"
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        let extensions = directory + "/server.ext"
        try Data("subjectAltName=\(subjectAltNames.joined(separator: ","))\n".utf8).write(to: URL(fileURLWithPath: extensions))
        let steps: [[String]] = [
            [openssl, "req", "-x509"] + ec
                + ["-keyout", "\(directory)/ca.key", "-out", "\(directory)/ca.pem", "-days", "2", "-subj", "/CN=bottle-test-ca"],
            [openssl, "req"] + ec
                + ["-keyout", "\(directory)/server.key", "-out", "\(directory)/server.csr", "-subj", "/CN=bottle-test-server"],
            [
                openssl, "x509", "-req", "-in", "\(directory)/server.csr", "-CA", "\(directory)/ca.pem", "-CAkey",
                "\(directory)/ca.key", "-CAcreateserial", "-out", "\(directory)/server.pem", "-days", "2", "-extfile",
                extensions,
            ],
        ]
        for step in steps {
            let output = try PostgresCommand.run(step, timeout: .seconds(60))
            guard output.status == 0 else {
                throw PostgresServerError("openssl failed (\(output.status)): \(output.standardError)")
            }
        }
        return TestCertificates(
            authority: "\(directory)/ca.pem", certificate: "\(directory)/server.pem", key: "\(directory)/server.key")
    }
}
