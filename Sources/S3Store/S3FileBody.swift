import AsyncHTTPClient
import HTTPTransport

/// A range of a file as an upload's body, streamed (see ``FileRangeBody``), with the
/// failure to open it worded as an S3 error.
enum S3FileBody {
    /// The HTTP body for `offset ..< offset + length` of `path`, with its length.
    static func body(path: String, offset: Int64, length: Int64,
                     bufferSize: Int) throws(S3Error) -> (HTTPClientRequest.Body, Int64) {
        do {
            return try FileRangeBody(path: path, offset: offset, length: length, bufferSize: bufferSize).body()
        } catch {
            throw S3Error(.local, "cannot upload: \(error)", cause: error)
        }
    }
}
