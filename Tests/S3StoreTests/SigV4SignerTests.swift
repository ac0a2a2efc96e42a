import Foundation
@testable import S3Store
import Testing

@Suite("Signature Version 4")
struct SigV4SignerTests {
    /// The example of the S3 API reference, "Example: GET Object" under
    /// "Authenticating Requests: Using the Authorization Header (AWS Signature Version 4)":
    /// the first 10 bytes of examplebucket/test.txt on 24 May 2013.
    @Test("the published GET Object example gets AWS's signature")
    func publishedExample() {
        let signer = SigV4Signer(
            credentials: S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                       secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1")
        let headers = signer.sign(method: "GET", path: "/test.txt", query: [],
                                  headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")],
                                  payloadHash: SigV4Signer.emptyPayloadHash,
                                  date: Date(timeIntervalSince1970: 1_369_353_600))
        let authorization = headers.first { $0.0 == "authorization" }?.1
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(headers.first { $0.0 == "x-amz-date" }?.1 == "20130524T000000Z")
    }

    @Test("paths and query values are percent-encoded as S3 computes them")
    func encoding() {
        #expect(SigV4Signer.encode("/b/a key/ü+x", keepSlash: true) == "/b/a%20key/%C3%BC%2Bx")
        #expect(SigV4Signer.canonicalQuery([("uploadId", "a/b="), ("partNumber", "2")]) == "partNumber=2&uploadId=a%2Fb%3D")
        #expect(SigV4Signer.canonicalQuery([("uploads", "")]) == "uploads=")
    }
}
