import Foundation
import ReconChannels
import ReconConfig
import Testing

/// Secrets a job file names by reference, credentials among them: read when present, refused with
/// the file, line and key when not, and never repeated in a message.
@Suite struct SecretResolverTests {
    static let jobFile = """
        [[channel]]
        name = "alipay-main"
        adapter = "alipay"
        base_url = "https://openapi.alipay.com/gateway.do"
        merchant_id = "2088000000000000"
        app_id = "2021000000000000"
        private_key = { credential = "alipay-private-key" }
        """

    static let secret = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"

    func credentialsFolder(_ files: [String: String]) throws -> String {
        let folder = NSTemporaryDirectory() + "recon-credentials-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8) }
        return folder
    }

    @Test func aCredentialIsReadUnderTheCredentialsDirectory() throws {
        let folder = try credentialsFolder(["alipay-private-key": Self.secret + "\n"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let channel = try #require(try JobFile.parse(Self.jobFile, file: "jobs/channels.toml").channels.first)
        #expect(channel.secrets.map(\.reference) == [.credential("alipay-private-key")])
        let resolver = SecretResolver(environment: ["CREDENTIALS_DIRECTORY": folder])
        #expect(try resolver.resolve(.credential("alipay-private-key"), for: "alipay-main") == Self.secret)
        try resolver.checkAll([channel])
    }

    @Test func aMissingCredentialNamesTheFileLineAndKey() throws {
        let folder = try credentialsFolder(["other": Self.secret])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let channels = try JobFile.parse(Self.jobFile, file: "jobs/channels.toml").channels
        for environment in [["CREDENTIALS_DIRECTORY": folder], [:]] {
            let error = try #require(
                throws: SecretError.self,
                performing: { try SecretResolver(environment: environment).checkAll(channels) })
            #expect(error.description.hasPrefix("jobs/channels.toml:7: `channel[0].private_key`: "), "\(error)")
            #expect(error.description.contains("credential alipay-private-key"), "\(error)")
            #expect(!error.description.contains(Self.secret))
        }
        let unset = try #require(
            throws: SecretError.self, performing: { try SecretResolver(environment: [:]).checkAll(channels) })
        #expect(unset.description.contains("$CREDENTIALS_DIRECTORY is not set"), "\(unset)")
    }

    @Test func anEmptyCredentialIsRefused() throws {
        let folder = try credentialsFolder(["alipay-private-key": "\n"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let resolver = SecretResolver(environment: ["CREDENTIALS_DIRECTORY": folder])
        let error = try #require(throws: ChannelError.self) {
            try resolver.resolve(.credential("alipay-private-key"), for: "alipay-main")
        }
        #expect("\(error)".contains("is empty"))
    }

    /// The daemons' own secrets: the variable first, then the credential, else nothing.
    @Test func daemonSettingsPreferTheVariableThenTheCredential() throws {
        let folder = try credentialsFolder(["api-token": Self.secret + "\n", "database-url": "  \n"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let both = ["RECON_API_TOKEN": "from-the-environment", "CREDENTIALS_DIRECTORY": folder]
        #expect(
            try SystemdCredentials.setting(variable: "RECON_API_TOKEN", credential: "api-token", environment: both)
                == "from-the-environment")
        let credentialOnly = ["CREDENTIALS_DIRECTORY": folder]
        #expect(
            try SystemdCredentials.setting(
                variable: "RECON_API_TOKEN", credential: "api-token", environment: credentialOnly) == Self.secret)
        #expect(
            try SystemdCredentials.setting(variable: "RECON_API_TOKEN", credential: "api-token", environment: [:])
                == nil)
        #expect(
            try SystemdCredentials.setting(
                variable: "RECON_X", credential: "not-given", environment: credentialOnly) == nil)
        let empty = try #require(throws: CredentialError.self) {
            try SystemdCredentials.setting(
                variable: "RECON_DATABASE_URL", credential: "database-url", environment: credentialOnly)
        }
        #expect(empty.description.contains("credential database-url"))
        #expect(empty.description.contains("is empty"))
    }
}
