//! One-click unsubscribe tokens: the account and the notice, signed with a key derived from the
//! server's secret, so the link needs no stored state and cannot be forged or moved to another
//! account. They do not expire: an old mail's link keeps working, as people expect.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use shifting_shared::Notice;
use uuid::Uuid;

/// Signs and checks unsubscribe tokens.
#[derive(Clone, Debug)]
pub struct UnsubscribeKey(hmac::Key);

impl UnsubscribeKey {
    /// The key derived from the server's secret (the JWT secret): it changes when that does.
    #[must_use]
    pub fn derive(secret: &[u8]) -> Self {
        let outer = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derived = hmac::sign(&outer, b"shifting mail unsubscribe v1");
        Self(hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()))
    }

    /// The token that turns `notice` off for `user_id`.
    #[must_use]
    pub fn token(&self, user_id: Uuid, notice: Notice) -> String {
        let mut bytes = claim(user_id, notice).to_vec();
        bytes.extend_from_slice(hmac::sign(&self.0, &bytes).as_ref());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The account and notice a genuine token names.
    #[must_use]
    pub fn check(&self, token: &str) -> Option<(Uuid, Notice)> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        if bytes.len() != 17 + 32 {
            return None;
        }
        let (claimed, tag) = bytes.split_at(17);
        hmac::verify(&self.0, claimed, tag).ok()?;
        let user_id = Uuid::from_slice(&claimed[..16]).ok()?;
        let notice = match claimed[16] {
            1 => Notice::Sales,
            2 => Notice::PaymentProblems,
            3 => Notice::Messages,
            _ => return None,
        };
        Some((user_id, notice))
    }
}

fn claim(user_id: Uuid, notice: Notice) -> [u8; 17] {
    let mut out = [0; 17];
    out[..16].copy_from_slice(user_id.as_bytes());
    out[16] = match notice {
        Notice::Sales => 1,
        Notice::PaymentProblems => 2,
        Notice::Messages => 3,
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_account_and_notice_and_cannot_be_altered() {
        let key = UnsubscribeKey::derive(b"a server secret of some length");
        let user = Uuid::new_v4();
        let token = key.token(user, Notice::Sales);
        assert_eq!(key.check(&token), Some((user, Notice::Sales)));
        assert_eq!(
            key.check(&key.token(user, Notice::PaymentProblems)),
            Some((user, Notice::PaymentProblems))
        );

        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[16] = 2;
        assert_eq!(key.check(&URL_SAFE_NO_PAD.encode(&bytes)), None);
        let other = UnsubscribeKey::derive(b"another server secret");
        assert_eq!(other.check(&token), None);
        assert_eq!(key.check("not a token"), None);
        assert_eq!(key.check(""), None);
    }
}
