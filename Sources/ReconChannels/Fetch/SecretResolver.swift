public import Foundation
public import ReconConfig
public import ReconCore

/// Reads the secrets that channel definitions name by reference. The value never appears in an
/// error: messages name the file or variable only.
public struct SecretResolver: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func resolve(_ reference: SecretReference, for channel: String) throws -> String {
        switch reference {
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw ChannelError.permanent("channel \(channel): the secret's environment variable \(name) is not set")
            }
            return value
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ChannelError.permanent("channel \(channel): cannot read the secret file \(path)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw ChannelError.permanent("channel \(channel): the secret file \(path) is not UTF-8 text")
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else {
                throw ChannelError.permanent("channel \(channel): the secret file \(path) is empty")
            }
            return trimmed
        case .credential(let name):
            do {
                return try SystemdCredentials.read(name, environment: environment)
            } catch {
                throw ChannelError.permanent("channel \(channel): \(error)")
            }
        }
    }

    /// Reads every secret the channels name, as a worker does at start: a missing or unreadable
    /// one is refused with the job file, line and key that name it (never the value).
    public func checkAll(_ channels: [ChannelDefinition]) throws {
        for channel in channels {
            for use in channel.secrets {
                do {
                    _ = try resolve(use.reference, for: channel.name)
                } catch let error as ChannelError {
                    let message: String
                    switch error {
                    case .permanent(let text): message = text
                    case .transient(let text, _): message = text
                    }
                    throw SecretError(description: "\(channel.file):\(use.line): `\(use.keyPath)`: \(message)")
                }
            }
        }
    }
}

/// A secret a job file names that cannot be read: where it is named, and why.
public struct SecretError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
