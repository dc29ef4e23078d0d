import Crypto
public import Foundation

/// One versioned schema change: `NNNN_what_it_does.sql`, applied once, in version order.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String
    /// SHA-256 of the file, recorded when applied, so an edited migration is noticed.
    public var checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

public struct MigrationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension Migration {
    /// The migrations shipped with this build (package resources of ReconStore).
    public static func bundled() throws -> [Migration] {
        try load(directory: try bundledDirectory())
    }

    /// Reads every `NNNN_name.sql` in `directory`, sorted by version. Other files are ignored.
    public static func load(directory: String) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MigrationError("cannot list migrations in \(directory): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for file in names where file.hasSuffix(".sql") {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
                throw MigrationError("\(directory)/\(file): a migration's name must be NNNN_description.sql")
            }
            let path = directory + "/" + file
            guard let data = FileManager.default.contents(atPath: path),
                let sql = String(data: data, encoding: .utf8)
            else {
                throw MigrationError("\(path): cannot be read as UTF-8 text")
            }
            if let clash = migrations.first(where: { $0.version == version }) {
                throw MigrationError("\(path): version \(version) is also used by \(clash.name)")
            }
            migrations.append(Migration(version: version, name: file, sql: sql))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    /// Where the migrations are: `RECON_MIGRATIONS_DIR`, next to the executable, or installed.
    static func bundledDirectory() throws -> String {
        try ShippedFolder.find(
            environment: "RECON_MIGRATIONS_DIR", bundle: "Recon_ReconStore.resources/Migrations", share: "migrations")
    }
}
