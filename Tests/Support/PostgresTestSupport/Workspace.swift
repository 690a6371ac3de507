import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The test process's directory for PostgreSQL files (the template and each
/// server), made so the `postgres` user can use it when the tests run as root.
enum Workspace {
    /// `/tmp/bottle-postgres-PID-…`, created once per process.
    static let root: String = {
        var template = Array("\(NSTemporaryDirectory())/bottle-postgres-\(getpid())-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        let path = made.map { String(cString: $0) } ?? "\(NSTemporaryDirectory())/bottle-postgres-\(getpid())"
        chmod(path, 0o755)  // the postgres user must reach its directories inside
        atexit { Registry.cleanUpAll() }
        return path
    }()

    private static let counter = Atomic<Int>(0)

    /// A new directory under the root, owned by the server's user.
    static func makeDirectory(prefix: String) throws -> String {
        let number = counter.add(1, ordering: .relaxed).newValue
        let path = "\(root)/\(prefix)-\(number)"
        try makeOwnedDirectory(path)
        return path
    }

    /// Copies `source` to `destination` (mode 0600), owned by the server's user.
    static func copyOwned(_ source: String, to destination: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        guard FileManager.default.createFile(atPath: destination, contents: data, attributes: [.posixPermissions: 0o600])
        else { throw PostgresServerError("cannot write \(destination)") }
        if PostgresCommand.runsAsPostgresUser {
            guard let user = getpwnam("postgres"), chown(destination, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                throw PostgresServerError("cannot give \(destination) to the postgres user: errno \(errno)")
            }
        }
    }

    /// Creates `path` (mode 0700) owned by the `postgres` user when running as root.
    static func makeOwnedDirectory(_ path: String) throws {
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw PostgresServerError("cannot create \(path): errno \(errno)")
        }
        if PostgresCommand.runsAsPostgresUser {
            guard let user = getpwnam("postgres") else {
                throw PostgresServerError("there is no postgres user (install Debian's postgresql package)")
            }
            guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                throw PostgresServerError("cannot give \(path) to the postgres user: errno \(errno)")
            }
        }
    }
}

/// The servers of this process, killed and removed at exit whatever the tests did.
enum Registry {
    private static let servers = Mutex<[String: String]>([:])  // base directory → data directory

    static func add(base: String, data: String) { servers.withLock { $0[base] = data } }

    static func remove(base: String) { _ = servers.withLock { $0.removeValue(forKey: base) } }

    static func cleanUpAll() {
        let all = servers.withLock { $0 }
        for (base, data) in all {
            if let text = try? String(contentsOfFile: data + "/postmaster.pid", encoding: .utf8),
                let first = text.split(separator: "\n").first, let pid = pid_t(first), pid > 0
            {
                PostgresServer.killTree(pid)
            }
            try? FileManager.default.removeItem(atPath: base)
        }
        try? FileManager.default.removeItem(atPath: Workspace.root)
    }
}

/// The data directory `initdb` made once for this process; every server starts from a copy.
actor Template {
    static let shared = Template()

    private var made: Task<String, any Error>?

    /// The template's directory, made on first use.
    func directory() async throws -> String {
        if let made { return try await made.value }
        let task = Task.detached { try Template.make() }
        made = task
        return try await task.value
    }

    private static func make() throws -> String {
        let base = try Workspace.makeDirectory(prefix: "template")
        let data = base + "/data"
        let passwordFile = base + "/superuser-password"
        _ = FileManager.default.createFile(
            atPath: passwordFile, contents: Data(PostgresServer.superuserPassword.utf8),
            attributes: [.posixPermissions: 0o644])
        guard let bin = PostgresServer.binDirectory else { throw PostgresServerError("PostgreSQL is not installed") }
        let output = try PostgresCommand.run(
            PostgresCommand.asOwner([
                "\(bin)/initdb", "-D", data, "-U", "postgres", "--pwfile", passwordFile, "--auth-local=trust",
                "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
            ]), timeout: .seconds(120))
        guard output.status == 0 else {
            throw PostgresServerError("initdb failed (\(output.status)): \(output.standardError)")
        }
        try? FileManager.default.removeItem(atPath: passwordFile)
        return data
    }
}
