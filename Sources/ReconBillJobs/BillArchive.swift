import Foundation
import ReconChannels

/// The raw bill files, kept for audit under `<archive>/<channel>/<sha256>.<ext>`: named by
/// content, so keeping the same file twice changes nothing and a name always proves its bytes.
public struct BillArchive: Sendable {
    public let folder: String

    public init(folder: String) {
        self.folder = folder
    }

    /// Moves `file` into the archive (a rename within one filesystem, else a copy through a
    /// temporary name) and returns its archive path.
    public func keep(_ file: String, channel: String, sha256: String, fileExtension: String) throws -> String {
        let directory = folder + "/" + channel
        let target = directory + "/" + sha256 + (fileExtension.isEmpty ? "" : "." + fileExtension)
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // The fresh download replaces a file of the same name: equal by content, unless an
            // earlier copy was cut short by a crash, and then the fresh one mends it.
            if rename(file, target) != 0 {
                // Another filesystem: copy under a temporary name, flush, then rename, so the archive
                // never holds a partial file under a final name.
                let temporary = target + ".part"
                try? manager.removeItem(atPath: temporary)
                try manager.copyItem(atPath: file, toPath: temporary)
                if let handle = FileHandle(forUpdatingAtPath: temporary) {
                    try handle.synchronize()
                    try handle.close()
                }
                guard rename(temporary, target) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                try manager.removeItem(atPath: file)
            }
            return target
        } catch {
            throw ChannelError.transient(
                "cannot keep the bill in the archive \(directory): \(error.localizedDescription)")
        }
    }

    /// Marks an archived file as refused by staging: a sidecar `<file>.refused` saying why, so no
    /// one takes it for a verified bill and parses it again. Best effort: the refusal is in the
    /// job's errors whatever becomes of the sidecar.
    public static func markRefused(_ archivedPath: String, reason: String) {
        try? (reason + "\n").write(toFile: archivedPath + ".refused", atomically: true, encoding: .utf8)
    }

    /// Removes a refusal mark: the same bytes have now been staged.
    public static func clearRefusal(_ archivedPath: String) {
        unlink(archivedPath + ".refused")
    }
}
