//! Secrets handed out in links (share links, password resets): 256 random bits, of which only
//! the SHA-256 is stored, so the database never holds one that opens anything.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// 32 random bytes, hex: the part of a link that opens it.
pub fn new() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What is stored of `token`, and looked up by (also how two secrets are compared without the
/// time taken saying anything about either).
pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
