import CCurl
import Foundation

/// The state curl's C callbacks work on during one perform: where body bytes go, the limits,
/// the counters, and why the transfer was stopped if one of our callbacks stopped it.
///
/// Reached from the callbacks through the opaque pointer set as WRITEDATA, HEADERDATA and
/// XFERINFODATA (`Unmanaged`, unretained); the transfer keeps it alive across the perform.
final class TransferContext {
    /// For a download, a non-2xx body is not the file's content: keep this much for diagnosis.
    static let diagnosticBodyLimit = 64 << 10

    private unowned let handle: CurlEasyHandle
    private let file: DownloadFile?
    private let maxBodySize: Int64
    private let lowSpeed: LowSpeedLimit?
    private let cancellation: CancellationFlag
    /// Bytes already in the file that a 206 answer continues.
    private(set) var resumeOffset: Int64

    private(set) var body = Data()
    private(set) var headers = HTTPHeaders()
    private(set) var bytesReceived: Int64 = 0
    private(set) var bytesWrittenToFile: Int64 = 0
    private var bodyStarted = false
    private var bodyGoesToFile = false

    /// Why one of our callbacks stopped the transfer (curl then reports a write or callback error).
    private(set) var stoppedForSize = false
    private(set) var stoppedForLowSpeed = false
    private(set) var stoppedForCancellation = false
    private(set) var fileErrno: Int32?
    /// A 2xx other than 206 came for a resumed download and the file was emptied first.
    private(set) var truncatedForFullBody = false
    /// A 206 whose Content-Range does not start where the file ends; nothing of it was written.
    private(set) var rangeMismatch = false

    private let clock = ContinuousClock()
    private var windowStart: ContinuousClock.Instant
    private var windowBytes: Int64 = 0

    init(
        handle: CurlEasyHandle, file: DownloadFile?, resumeOffset: Int64,
        options: HTTPOptions, cancellation: CancellationFlag
    ) {
        self.handle = handle
        self.file = file
        self.resumeOffset = resumeOffset
        self.maxBodySize = options.maxBodySize
        self.lowSpeed = options.lowSpeed
        self.cancellation = cancellation
        windowStart = clock.now
    }

    /// Installs the C callbacks with this context as their user data.
    /// The caller must keep `self` alive until the perform has returned.
    func install(on handle: CurlEasyHandle) throws {
        let context = UnsafeMutableRawPointer(Unmanaged.passUnretained(self).toOpaque())
        try handle.set(CURLOPT_WRITEFUNCTION, callback: writeCallback, name: "CURLOPT_WRITEFUNCTION")
        try handle.set(CURLOPT_WRITEDATA, pointer: context, name: "CURLOPT_WRITEDATA")
        try handle.set(CURLOPT_HEADERFUNCTION, callback: headerCallback, name: "CURLOPT_HEADERFUNCTION")
        try handle.set(CURLOPT_HEADERDATA, pointer: context, name: "CURLOPT_HEADERDATA")
        try handle.set(CURLOPT_XFERINFOFUNCTION, callback: progressCallback, name: "CURLOPT_XFERINFOFUNCTION")
        try handle.set(CURLOPT_XFERINFODATA, pointer: context, name: "CURLOPT_XFERINFODATA")
        try handle.set(CURLOPT_NOPROGRESS, 0, name: "CURLOPT_NOPROGRESS")
    }

    // MARK: Callbacks (returning anything but the byte count stops the transfer)

    fileprivate func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        if !bodyStarted, !startBody() { return 0 }
        if bodyGoesToFile {
            guard let file else { return 0 }
            if resumeOffset + bytesWrittenToFile + Int64(bytes.count) > maxBodySize {
                stoppedForSize = true
                return 0
            }
            if let error = file.write(bytes) {
                fileErrno = error
                return 0
            }
            bytesWrittenToFile += Int64(bytes.count)
        } else if file == nil {
            if Int64(body.count) + Int64(bytes.count) > maxBodySize {
                stoppedForSize = true
                return 0
            }
            body.append(contentsOf: bytes)
        } else {
            let room = max(0, Self.diagnosticBodyLimit - body.count)
            body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes.prefix(room)))
        }
        bytesReceived += Int64(bytes.count)
        return bytes.count
    }

    /// The status is known once the body starts: only a 2xx body is the file's content.
    /// False stops the transfer: a 206 for the wrong range, or a file that could not be emptied.
    private func startBody() -> Bool {
        bodyStarted = true
        guard let file else { return true }
        let status = handle.info(CURLINFO_RESPONSE_CODE) ?? 0
        guard (200..<300).contains(status) else { return true }
        if status == 206 {
            guard ContentRange.start(of: headers["Content-Range"]) == resumeOffset else {
                rangeMismatch = true
                return false
            }
        } else if resumeOffset > 0 {
            // The whole body came although a range was asked for: start the file again.
            if let error = file.truncateToZero() {
                fileErrno = error
                return false
            }
            resumeOffset = 0
            truncatedForFullBody = true
        }
        bodyGoesToFile = true
        return true
    }

    fileprivate func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = Substring(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<end]), as: UTF8.self))
        if line.hasPrefix("HTTP/") {
            // A new response (after a 1xx or a redirect): its headers replace the earlier ones.
            headers = HTTPHeaders()
        } else if let first = line.first, first == " " || first == "\t", let lastIndex = headers.fields.indices.last {
            // An obsolete folded continuation of the previous value.
            headers.fields[lastIndex].value += " " + line.trimmingCharacters(in: .whitespaces)
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append(name: name, value: value)
        }
    }

    fileprivate func progress(transferred: Int64) -> Int32 {
        if cancellation.isCancelled {
            stoppedForCancellation = true
            return 1
        }
        guard let lowSpeed else { return 0 }
        let now = clock.now
        let elapsed = now - windowStart
        guard elapsed >= lowSpeed.window else { return 0 }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        // curl restarts its counters after a redirect; start a new window rather than judge this one.
        if transferred < windowBytes {
            windowStart = now
            windowBytes = transferred
            return 0
        }
        if Double(transferred - windowBytes) < Double(lowSpeed.bytesPerSecond) * seconds {
            stoppedForLowSpeed = true
            return 1
        }
        windowStart = now
        windowBytes = transferred
        return 0
    }
}

/// The first byte position of a `Content-Range: bytes FIRST-LAST/LENGTH` value.
enum ContentRange {
    static func start(of value: String?) -> Int64? {
        guard let value, value.hasPrefix("bytes ") else { return nil }
        let range = value.dropFirst("bytes ".count)
        guard let dash = range.firstIndex(of: "-") else { return nil }
        return Int64(range[..<dash].trimmingCharacters(in: .whitespaces))
    }
}

// The C callbacks: no captures, context only through the user-data pointer.

private let writeCallback: recon_curl_data_cb = { data, size, count, userData in
    guard let userData else { return 0 }
    let (total, overflow) = size.multipliedReportingOverflow(by: count)
    guard !overflow else { return 0 }
    guard total > 0, let data else { return total }
    let context = Unmanaged<TransferContext>.fromOpaque(userData).takeUnretainedValue()
    return context.receiveBody(UnsafeRawBufferPointer(start: data, count: total))
}

private let headerCallback: recon_curl_data_cb = { data, size, count, userData in
    guard let userData else { return 0 }
    let (total, overflow) = size.multipliedReportingOverflow(by: count)
    guard !overflow else { return 0 }
    guard total > 0, let data else { return total }
    let context = Unmanaged<TransferContext>.fromOpaque(userData).takeUnretainedValue()
    context.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: total))
    return total
}

private let progressCallback: recon_curl_xferinfo_cb = { userData, _, downloaded, _, uploaded in
    guard let userData else { return 0 }
    let context = Unmanaged<TransferContext>.fromOpaque(userData).takeUnretainedValue()
    return context.progress(transferred: Int64(downloaded) &+ Int64(uploaded))
}
