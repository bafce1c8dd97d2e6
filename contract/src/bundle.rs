//! How a handler's deployment bundle is named.
//!
//! The synthesizer computes a hash of a handler's sources and writes the S3 key
//! into the template; `sockstack bundle` computes the same hash and names the
//! zip the same way, so the template never needs a build to be written.

/// File name of the executable inside every bundle (the `provided.al2023` runtime runs it).
pub const EXECUTABLE: &str = "bootstrap";

/// How many hex digits of the source hash a bundle name keeps.
pub const HASH_LEN: usize = 16;

/// The bundle's file name and S3 key: `{handler}-{hash}.zip`.
pub fn key(handler: &str, source_hash: &str) -> String {
    let short = &source_hash[..source_hash.len().min(HASH_LEN)];
    format!("{handler}-{short}.zip")
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_keeps_a_short_hash() {
        assert_eq!(
            super::key("send", "0123456789abcdef0123"),
            "send-0123456789abcdef.zip"
        );
    }
}
