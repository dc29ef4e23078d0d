import Foundation

/// Ctrl-C, SIGTERM and SIGHUP during `recon demo`. While `waitForInterrupt` waits (`--keep`), the signal
/// ends the wait and the demo stops in order. At any other moment the handler stops the workers
/// started so far, removes the demo's files (unless kept) and exits 130; the private cluster's
/// watcher removes the cluster once this process is gone.
final class DemoInterrupt: @unchecked Sendable {
    // @unchecked: every field is guarded by `lock`; the sources are only kept alive here.
    private let lock = NSLock()
    private var waiter: CheckedContinuation<Void, Never>?
    private var workers: DemoWorkers?
    private var folder: String?
    private var sources: [any DispatchSourceSignal] = []

    init() {
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in self?.interrupted() }
            source.resume()
            sources.append(source)
        }
    }

    /// What the handler cleans up: the workers once started, the folder unless it is kept.
    func cleanUp(workers: DemoWorkers? = nil, folder: String? = nil) {
        lock.lock()
        if let workers { self.workers = workers }
        if let folder { self.folder = folder }
        lock.unlock()
    }

    /// Returns on Ctrl-C or SIGTERM.
    func waitForInterrupt() async {
        await withCheckedContinuation { continuation in
            lock.lock()
            waiter = continuation
            lock.unlock()
        }
    }

    private func interrupted() {
        lock.lock()
        let waiting = waiter
        waiter = nil
        let workers = self.workers
        let folder = self.folder
        lock.unlock()
        if let waiting {
            waiting.resume()
            return
        }
        let what = folder == nil ? "stopping the workers" : "stopping the workers and removing the demo's files"
        FileHandle.standardError.write(Data("\ninterrupted: \(what)\n".utf8))
        workers?.stop()
        if let folder { try? FileManager.default.removeItem(atPath: folder) }
        exit(130)
    }
}
