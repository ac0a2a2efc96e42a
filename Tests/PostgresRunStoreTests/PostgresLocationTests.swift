import Foundation
import PostgresRunStore
import RunStore
import Testing

@Suite("Store URLs")
struct PostgresLocationTests {
    @Test("a URL gives user, host, port and database, with libpq's defaults for what it leaves out")
    func parts() throws {
        let full = try PostgresLocation(url: "postgresql://ci:pw@db.internal:6543/history", environment: [:])
        #expect((full.user, full.host, full.port, full.database, full.requireTLS) == ("ci", "db.internal", 6543, "history", false))
        #expect(full.redacted == "postgresql://ci@db.internal:6543/history")

        let bare = try PostgresLocation(url: "postgres://db.internal", environment: ["PGUSER": "runner"])
        #expect((bare.user, bare.port, bare.database) == ("runner", 5432, "runner"))
        let tls = try PostgresLocation(url: "postgresql://ci@db/h?sslmode=require", environment: [:])
        #expect(tls.requireTLS && tls.redacted == "postgresql://ci@db:5432/h?sslmode=require")
    }

    @Test("a URL mlpipe cannot use is refused, saying why, without its password")
    func refused() throws {
        for (url, reason) in [
            ("postgresql://ci:pw-9@db/h?sslmode=maybe", "sslmode 'maybe' is not one of disable, require"),
            ("postgresql://ci:pw-9@db/h?application_name=x", "the option 'application_name' is not one mlpipe knows"),
            ("mysql://ci:pw-9@db/h", "it is not a postgresql:// URL"),
        ] {
            let error = #expect(throws: RunStoreError.self) { try PostgresLocation(url: url, environment: [:]) }
            #expect(error?.code == .cannotOpen)
            #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
            #expect(error?.description.contains("pw-9") == false, "\(String(describing: error))")
        }
        #expect(PostgresLocation.withoutPassword("postgresql://ci:p@ss:w@rd@db:5/h") == "postgresql://ci@db:5/h")
    }
}
