//! Record and collection ids: 15 characters of `[a-z0-9]`, PocketBase-compatible.

use rand::Rng;

pub const ID_LEN: usize = 15;
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A fresh random id of [`ID_LEN`] characters.
pub fn new_id() -> String {
    random_string(ID_LEN)
}

/// A random string over `[a-z0-9]` of the given length.
pub fn random_string(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A random string of decimal digits (one-time passwords), from a CSPRNG.
pub fn random_digits(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// Whether `s` is acceptable as a client-supplied record id: PocketBase allows
/// 15 characters of `[a-z0-9]` by default.
pub fn is_valid_id(s: &str) -> bool {
    s.len() == ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Ids of collections are `pbc_` followed by digits in PocketBase; we accept any
/// `[a-zA-Z0-9_]` id up to 100 characters for collections supplied by clients.
pub fn is_valid_collection_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_valid() {
        for _ in 0..100 {
            assert!(is_valid_id(&new_id()));
        }
        assert!(!is_valid_id("ABCDEFGHIJKLMNO"));
        assert!(!is_valid_id("short"));
    }
}
