// The start-up reference of `make bench`: the smallest Swift program that pays what
// every Swift command-line tool pays before its own work — the runtime and Foundation,
// linked statically (`swiftc -static-stdlib`, as mlpipe's release build) — and then
// prints the date. `mlpipe --version` is measured against it.
import Foundation

print(Date())
