import CReconSpawn
import Foundation
import Glibc

/// Runs programs with posix_spawn and waitpid.
///
/// Not Foundation's `Process`: on Linux it learns that a child ended when a socket it shares with
/// the child closes, and `pg_ctl start` leaves a server running that inherits that socket, so
/// `waitUntilExit()` would wait for the server to stop. Here the child gets only stdin, stdout and
/// stderr (every other descriptor is closed), and its exit is read with waitpid.
enum ChildProcess {
    struct Failure: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var output: String
        var description: String {
            "\(command) exited with status \(status)" + (output.isEmpty ? "" : ": \(output)")
        }
    }

    /// Runs `executable` with `arguments` to its end, as `user` (through runuser) when given and we
    /// are root. Output goes to a file in `scratch`, not a pipe, so a server the program starts
    /// can't hold our pipe open. Throws `Failure` when it exits non-zero.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], asUser user: String? = nil, scratch: String)
        throws(Failure) -> String
    {
        let argv =
            user != nil && getuid() == 0
            ? ["/usr/sbin/runuser", "-u", user ?? "", "--", executable] + arguments
            : [executable] + arguments
        let command = ([executable] + arguments).joined(separator: " ")
        let outputPath = scratch + "/.command-output-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        defer { unlink(outputPath) }
        let pid: pid_t
        do {
            pid = try spawn(argv, outputPath: outputPath, newSession: false)
        } catch {
            throw Failure(command: command, status: -1, output: error.description)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw Failure(command: command, status: -1, output: "waitpid failed") }
        }
        let output = ((try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // WIFEXITED / WEXITSTATUS are macros; spelled out: low 7 bits 0 means a normal exit.
        let exited = status & 0x7f == 0
        let exitCode = (status >> 8) & 0xff
        guard exited, exitCode == 0 else {
            throw Failure(
                command: command, status: exited ? exitCode : -(status & 0x7f), output: String(output.suffix(2000)))
        }
        return output
    }

    /// Starts `/bin/sh -c script` in a session of its own, its output discarded, and does not wait.
    static func spawnDetached(script: String) throws(Failure) -> pid_t {
        do {
            return try spawn(["/bin/sh", "-c", script], outputPath: "/dev/null", newSession: true)
        } catch {
            throw Failure(command: "/bin/sh", status: -1, output: error.description)
        }
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    private static func spawn(_ argv: [String], outputPath: String, newSession: Bool) throws(SpawnError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        recon_spawn_addclosefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if newSession { posix_spawnattr_setflags(&attributes, recon_spawn_setsid_flag()) }

        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArguments.append(nil)
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environ)
        guard result == 0 else {
            throw SpawnError(description: "cannot start \(argv[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }
}
