//! Standard Webhooks signatures: `whsec_` secrets (24–64 random bytes, base64) and
//! `v1,<base64 HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<body>")>`, several
//! separated by spaces while a rotated secret still signs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;
use shifting_shared::webhooks::SECRET_PREFIX;

/// Random bytes in a new secret.
const SECRET_BYTES: usize = 32;

/// A new signing secret: `whsec_` and 32 random bytes in base64.
#[must_use]
pub fn new_secret() -> String {
    let bytes: [u8; SECRET_BYTES] = rand::random();
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The key a secret names, or `None` for text that is not one of ours.
fn key(secret: &str) -> Option<hmac::Key> {
    let bytes = STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    Some(hmac::Key::new(hmac::HMAC_SHA256, &bytes))
}

/// The `webhook-signature` header for `body` sent as message `id` at `timestamp` (Unix
/// seconds), signed with every secret in `secrets` (the current one first). Secrets that are
/// not `whsec_` base64 are skipped.
#[must_use]
pub fn sign(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> String {
    let content = format!("{id}.{timestamp}.{body}");
    secrets
        .iter()
        .filter_map(|secret| key(secret))
        .map(|key| {
            let tag = hmac::sign(&key, content.as_bytes());
            format!("v1,{}", STANDARD.encode(tag.as_ref()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specifications_example_signs_the_same() {
        // The Standard Webhooks specification's worked example.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&[secret], id, 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_rotation_signs_twice_and_strangers_are_skipped() {
        let (new, old) = (new_secret(), new_secret());
        assert!(new.starts_with("whsec_") && new != old);
        let both = sign(&[&new, &old], "msg_1", 1, "{}");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&[&new], "msg_1", 1, "{}"));
        assert_eq!(parts[1], sign(&[&old], "msg_1", 1, "{}"));
        assert_eq!(sign(&["not-a-secret", &new], "msg_1", 1, "{}"), parts[0]);
    }
}
