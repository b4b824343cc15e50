import StrataCore
import StrataCustomers
import StrataIO
import Crypto
import Foundation

/// Salted-hash pseudonyms for customer ids: the first 8 bytes of HMAC-SHA-256(salt, id) as 16
/// hex digits. The same salt gives the same pseudonym in every run (so runs can still be compared
/// by `strata migrate`); without the salt the ids cannot be recovered by hashing guesses.
/// Collisions: about n^2 / 2^65, i.e. 3e-8 for 10M customers.
public struct Pseudonymizer {
    let key: SymmetricKey

    public init(salt: String) { key = SymmetricKey(data: Data(salt.utf8)) }

    public func pseudonym(_ id: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(id.utf8), using: key)
        var out = ""
        out.reserveCapacity(16)
        for b in mac.prefix(8) {
            out.append(Self.hex[Int(b >> 4)]); out.append(Self.hex[Int(b & 15)])
        }
        return out
    }

    static let hex = Array("0123456789abcdef")
}
