//! The GNAP interaction finish hash (OPEN-PAYMENTS.md §4): what the wallet sends back on the
//! finish redirect to prove the redirect belongs to our grant request.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use ring::digest::{SHA256, digest};
use subtle::ConstantTimeEq;

/// Which form of the grant request URL a received hash was computed over. Deployed Rafiki
/// versions differ (§4.2); all bind the same nonces and `interact_ref`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantUrlForm {
    /// The `authServer` string exactly as used for the grant request.
    AsUsed,
    /// The same with a trailing `/` added or removed.
    SlashToggled,
    /// The auth server's origin followed by `/` (Rafiki ≤ v2.0.0-beta).
    OriginSlash,
}

fn raw_hash(
    client_nonce: &str,
    interact_nonce: &str,
    interact_ref: &str,
    grant_url: &str,
) -> [u8; 32] {
    let input = format!("{client_nonce}\n{interact_nonce}\n{interact_ref}\n{grant_url}");
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, input.as_bytes()).as_ref());
    out
}

/// The hash as Rafiki sends it: SHA-256 over the four values joined by `\n`, standard base64
/// with padding.
#[must_use]
pub fn finish_hash(
    client_nonce: &str,
    interact_nonce: &str,
    interact_ref: &str,
    grant_url: &str,
) -> String {
    STANDARD.encode(raw_hash(
        client_nonce,
        interact_nonce,
        interact_ref,
        grant_url,
    ))
}

/// Checks a received `hash` against the expected one for `auth_server` (the URL the grant was
/// requested at), in constant time, accepting standard or URL-safe base64 with or without
/// padding and the grant-URL forms of [`GrantUrlForm`]. Returns the form that matched.
#[must_use]
pub fn verify_finish_hash(
    received: &str,
    client_nonce: &str,
    interact_nonce: &str,
    interact_ref: &str,
    auth_server: &str,
) -> Option<GrantUrlForm> {
    let received = decode_any(received)?;
    let toggled = match auth_server.strip_suffix('/') {
        Some(without) => without.to_owned(),
        None => format!("{auth_server}/"),
    };
    let origin_slash = url::Url::parse(auth_server)
        .ok()
        .map(|u| format!("{}/", u.origin().ascii_serialization()));
    let candidates = [
        (GrantUrlForm::AsUsed, Some(auth_server.to_owned())),
        (GrantUrlForm::SlashToggled, Some(toggled)),
        (GrantUrlForm::OriginSlash, origin_slash),
    ];
    candidates.into_iter().find_map(|(form, url)| {
        let expected = raw_hash(client_nonce, interact_nonce, interact_ref, &url?);
        bool::from(expected.ct_eq(&received)).then_some(form)
    })
}

fn decode_any(value: &str) -> Option<[u8; 32]> {
    let value = value.trim();
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .into_iter()
        .find_map(|engine| engine.decode(value).ok())
        .and_then(|bytes| bytes.try_into().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CLIENT_NONCE: &str = "4edb2194-dbdf-46bb-9397-d5fd57b7c8a7";
    const INTERACT_NONCE: &str = "F81A05DDDBBFC398";
    const INTERACT_REF: &str = "ad82597c-bbfa-4eb0-b72e-328e005b8689";
    const AUTH_SERVER: &str =
        "https://auth.interledger-test.dev/f537937b-7016-481b-b655-9f0d1014822c";

    #[test]
    fn the_worked_example_of_section_4_is_reproduced() {
        assert_eq!(
            finish_hash(CLIENT_NONCE, INTERACT_NONCE, INTERACT_REF, AUTH_SERVER),
            "s/MhqiWR0Eo+P8y+mGhaq1N6nWEl2UmUO5wTMgDcAW4="
        );
    }

    #[test]
    fn both_base64_alphabets_with_and_without_padding_are_accepted() {
        for received in [
            "s/MhqiWR0Eo+P8y+mGhaq1N6nWEl2UmUO5wTMgDcAW4=",
            "s/MhqiWR0Eo+P8y+mGhaq1N6nWEl2UmUO5wTMgDcAW4",
            "s_MhqiWR0Eo-P8y-mGhaq1N6nWEl2UmUO5wTMgDcAW4",
            "s_MhqiWR0Eo-P8y-mGhaq1N6nWEl2UmUO5wTMgDcAW4=",
        ] {
            assert_eq!(
                verify_finish_hash(
                    received,
                    CLIENT_NONCE,
                    INTERACT_NONCE,
                    INTERACT_REF,
                    AUTH_SERVER
                ),
                Some(GrantUrlForm::AsUsed),
                "{received}"
            );
        }
    }

    #[test]
    fn older_rafiki_grant_url_forms_are_accepted_and_reported() {
        let with_slash = finish_hash(
            CLIENT_NONCE,
            INTERACT_NONCE,
            INTERACT_REF,
            &format!("{AUTH_SERVER}/"),
        );
        assert_eq!(
            verify_finish_hash(
                &with_slash,
                CLIENT_NONCE,
                INTERACT_NONCE,
                INTERACT_REF,
                AUTH_SERVER
            ),
            Some(GrantUrlForm::SlashToggled)
        );
        let origin = finish_hash(
            CLIENT_NONCE,
            INTERACT_NONCE,
            INTERACT_REF,
            "https://auth.interledger-test.dev/",
        );
        assert_eq!(
            verify_finish_hash(
                &origin,
                CLIENT_NONCE,
                INTERACT_NONCE,
                INTERACT_REF,
                AUTH_SERVER
            ),
            Some(GrantUrlForm::OriginSlash)
        );
    }

    #[test]
    fn any_other_value_is_rejected() {
        let good = finish_hash(CLIENT_NONCE, INTERACT_NONCE, INTERACT_REF, AUTH_SERVER);
        for bad in ["", "not base64!", "AAAA", &good[..good.len() - 2]] {
            assert_eq!(
                verify_finish_hash(bad, CLIENT_NONCE, INTERACT_NONCE, INTERACT_REF, AUTH_SERVER),
                None,
                "{bad}"
            );
        }
        assert_eq!(
            verify_finish_hash(
                &good,
                "other nonce",
                INTERACT_NONCE,
                INTERACT_REF,
                AUTH_SERVER
            ),
            None
        );
        assert_eq!(
            verify_finish_hash(&good, CLIENT_NONCE, "other", INTERACT_REF, AUTH_SERVER),
            None
        );
        assert_eq!(
            verify_finish_hash(
                &good,
                CLIENT_NONCE,
                INTERACT_NONCE,
                "other-ref",
                AUTH_SERVER
            ),
            None
        );
        assert_eq!(
            verify_finish_hash(
                &good,
                CLIENT_NONCE,
                INTERACT_NONCE,
                INTERACT_REF,
                "https://evil.example/x"
            ),
            None
        );
    }

    proptest! {
        #[test]
        fn a_hash_verifies_only_for_its_own_inputs(
            client in "[a-zA-Z0-9-]{1,40}", server in "[A-F0-9]{16}", reference in "[a-f0-9-]{36}",
            other in "[a-zA-Z0-9-]{1,40}",
        ) {
            let hash = finish_hash(&client, &server, &reference, AUTH_SERVER);
            prop_assert_eq!(verify_finish_hash(&hash, &client, &server, &reference, AUTH_SERVER), Some(GrantUrlForm::AsUsed));
            if other != client {
                prop_assert_eq!(verify_finish_hash(&hash, &other, &server, &reference, AUTH_SERVER), None);
            }
        }
    }
}
