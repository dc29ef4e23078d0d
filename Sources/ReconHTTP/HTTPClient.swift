public import ReconBlocking

/// HTTP over libcurl, an easy handle per request (or one kept alive with its connection, given
/// `KeptAliveHandles`), every blocking call on `executor`'s threads.
///
/// What the network or the server did comes back as an `HTTPResult` (a 503, a timeout, a cut
/// connection); only local problems throw `HTTPClientError`. Cancelling the awaiting task stops
/// the transfer within about a second (curl's progress callback) with `.cancelled`.
public struct HTTPClient: Sendable {
    /// Used when a call passes no options of its own.
    public var options: HTTPOptions
    private var executor: BlockingExecutor
    /// Handles kept between requests with their connections; nil: a handle (and a connection) per request.
    private let keptAlive: KeptAliveHandles?

    public init(
        options: HTTPOptions = HTTPOptions(), executor: BlockingExecutor = .shared, keepAlive: KeptAliveHandles? = nil
    ) {
        self.options = options
        self.executor = executor
        self.keptAlive = keepAlive
    }

    /// The same client, its transfers run on `executor`'s threads.
    public func on(_ executor: BlockingExecutor) -> HTTPClient {
        var client = self
        client.executor = executor
        return client
    }

    /// Sends `request` and keeps the response body in memory (at most `maxBodySize` bytes).
    public func send(_ request: HTTPRequest, options: HTTPOptions? = nil) async throws -> HTTPResult {
        let transfer = Transfer(
            request: request, options: options ?? self.options, cancellation: CancellationFlag(), handles: keptAlive)
        return try await run(transfer) { try $0.runInMemory() }
    }

    /// Streams the response body of `request` into `partialFile`.
    ///
    /// `partialFile` is a working name the caller owns (e.g. `….part`), never the final one: it
    /// holds whatever arrived, even when the transfer was cut off. With `resume`, a non-empty
    /// `partialFile` is continued with `Range: bytes=N-` (GET only); a 200 instead of a 206
    /// empties it and fills it from zero (`restartedFromZero`). `ifRange` (a validator of the
    /// entity the file holds, see `RangeValidator`) goes with the Range, so a server whose file
    /// changed answers 200 with the new one instead of a 206 that would mix the two. A non-2xx
    /// answer leaves the file as it was, its body in `HTTPResult.body`. The file is fsynced when
    /// the transfer completed.
    public func download(
        _ request: HTTPRequest, to partialFile: String, resume: Bool = false, ifRange: String? = nil,
        options: HTTPOptions? = nil
    ) async throws -> HTTPResult {
        let transfer = Transfer(
            request: request, options: options ?? self.options, cancellation: CancellationFlag(), handles: keptAlive)
        return try await run(transfer) { try $0.runDownload(path: partialFile, resume: resume, ifRange: ifRange) }
    }

    private func run(
        _ transfer: Transfer, _ body: @escaping @Sendable (Transfer) throws -> HTTPResult
    ) async throws -> HTTPResult {
        let cancellation = transfer.cancellation
        return try await withTaskCancellationHandler {
            try await executor.run { try body(transfer) }
        } onCancel: {
            cancellation.cancel()
        }
    }
}
