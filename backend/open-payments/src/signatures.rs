//! HTTP message signatures (RFC 9421) in the profile Open Payments servers verify
//! (OPEN-PAYMENTS.md §2): label `sig1`, Ed25519, parameters `keyid` then `created`, and
//! `Content-Digest: sha-512=:…:` over the exact body bytes.

use std::convert::Infallible;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use ring::digest::{SHA256, SHA512, digest};
use sfv::{BareItem, Dictionary, ListEntry, ListSerializer, Parser};
use url::Url;

use crate::keys::{Jwk, Jwks, SigningKey};

/// The only signature label Rafiki's verifier accepts.
pub const LABEL: &str = "sig1";

/// A request about to be sent.
#[derive(Clone, Copy, Debug)]
pub struct RequestToSign<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The absolute URL, exactly as it will be sent.
    pub url: &'a Url,
    /// The `Authorization` header (`GNAP <token>`), if any.
    pub authorization: Option<&'a str>,
    /// The exact body bytes, if any.
    pub body: Option<&'a [u8]>,
    /// The body's `Content-Type`.
    pub content_type: &'a str,
}

/// The headers that make a request signed. Send every one of them exactly as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `Content-Digest`, when there is a body.
    pub content_digest: Option<String>,
    /// `Content-Length`, when there is a body.
    pub content_length: Option<String>,
    /// `Content-Type`, when there is a body.
    pub content_type: Option<String>,
    /// `Signature-Input`.
    pub signature_input: String,
    /// `Signature`.
    pub signature: String,
}

impl SignatureHeaders {
    /// `(name, value)` pairs, lower-case names, ready to add to a request.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("content-digest", self.content_digest.as_deref()),
            ("content-length", self.content_length.as_deref()),
            ("content-type", self.content_type.as_deref()),
            ("signature-input", Some(self.signature_input.as_str())),
            ("signature", Some(self.signature.as_str())),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
    }
}

/// `sha-512=:<base64>:` over `body` (RFC 9530).
#[must_use]
pub fn content_digest(body: &[u8]) -> String {
    let mut header = String::with_capacity(98);
    header.push_str("sha-512=:");
    STANDARD.encode_string(digest(&SHA512, body), &mut header);
    header.push(':');
    header
}

/// Signs a request: covers `@method`, `@target-uri`, `authorization` when present and the
/// content headers when there is a body, with `keyid` then `created`.
#[must_use]
pub fn sign(key: &SigningKey, request: &RequestToSign<'_>, created: u64) -> SignatureHeaders {
    let mut components: Vec<(&str, String)> = vec![
        ("@method", request.method.to_ascii_uppercase()),
        ("@target-uri", request.url.as_str().to_owned()),
    ];
    if let Some(authorization) = request.authorization {
        components.push(("authorization", authorization.to_owned()));
    }
    let body = request.body.filter(|b| !b.is_empty());
    let (content_digest, content_length, content_type) = match body {
        Some(body) => {
            let digest = content_digest(body);
            let length = body.len().to_string();
            components.push(("content-digest", digest.clone()));
            components.push(("content-length", length.clone()));
            components.push(("content-type", request.content_type.to_owned()));
            (
                Some(digest),
                Some(length),
                Some(request.content_type.to_owned()),
            )
        }
        None => (None, None, None),
    };
    let names = components
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(" ");
    let params = format!(
        "({names});keyid={};created={created}",
        sf_string(key.key_id())
    );
    let base = signature_base(components.iter().map(|(n, v)| (*n, v.as_str())), &params);
    let signature = key.sign(base.as_bytes());
    SignatureHeaders {
        content_digest,
        content_length,
        content_type,
        signature_input: format!("{LABEL}={params}"),
        signature: format!("{LABEL}=:{}:", STANDARD.encode(signature)),
    }
}

/// An RFC 8941 string for printable ASCII (key ids are checked to be printable ASCII).
fn sf_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

fn signature_base<'a>(
    components: impl Iterator<Item = (&'a str, &'a str)>,
    params: &str,
) -> String {
    let mut base = String::with_capacity(512);
    for (name, value) in components {
        for part in ["\"", name, "\": ", value, "\n"] {
            base.push_str(part);
        }
    }
    for part in ["\"@signature-params\": ", params] {
        base.push_str(part);
    }
    base
}

/// A received request, as the verifier needs it.
#[derive(Clone, Copy, Debug)]
pub struct SignedRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The absolute URL the request was sent to, as the server reconstructs it.
    pub target_uri: &'a str,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The received body bytes.
    pub body: &'a [u8],
}

/// How strict the verifier is about time.
#[derive(Clone, Copy, Debug)]
pub struct VerifyOptions {
    /// The current Unix time in seconds.
    pub now: u64,
    /// How far `created` may be from `now` in either direction; `None` accepts any (as Rafiki).
    pub max_skew: Option<Duration>,
}

/// A verified signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// The key that signed.
    pub key_id: String,
    /// When it was signed (Unix seconds).
    pub created: u64,
}

/// Why a signature was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A required header is missing.
    #[error("missing header {0}")]
    MissingHeader(String),
    /// A header is not valid structured-field syntax or has the wrong shape.
    #[error("malformed {0} header")]
    Malformed(&'static str),
    /// No `sig1` member.
    #[error("no signature labelled sig1")]
    MissingLabel,
    /// A component that must be covered is not.
    #[error("the signature does not cover {0}")]
    MissingComponent(&'static str),
    /// A component name with upper-case letters or parameters.
    #[error("invalid covered component {0:?}")]
    InvalidComponent(String),
    /// A derived component we do not support.
    #[error("unsupported covered component {0:?}")]
    UnsupportedComponent(String),
    /// No `keyid` parameter.
    #[error("the signature has no keyid")]
    MissingKeyId,
    /// No `created` parameter.
    #[error("the signature has no created time")]
    MissingCreated,
    /// `created` is too far from now, or `expires` has passed.
    #[error("the signature is too old, from the future, or expired")]
    Stale,
    /// An `alg` other than `ed25519`.
    #[error("unsupported signature algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// A `Content-Digest` algorithm other than sha-256 or sha-512.
    #[error("unsupported digest algorithm {0:?}")]
    UnsupportedDigest(String),
    /// The body does not match `Content-Digest` or `Content-Length`.
    #[error("the body does not match its digest or length")]
    DigestMismatch,
    /// The key source has no key with this id.
    #[error("unknown key {0:?}")]
    UnknownKey(String),
    /// The key source failed.
    #[error("could not retrieve the client's keys: {0}")]
    KeySource(String),
    /// The signature does not verify.
    #[error("the signature is invalid")]
    BadSignature,
}

/// Where the verifier finds public keys by `keyid` (for Open Payments: the client's
/// `jwks.json`).
pub trait KeySource {
    /// Why a lookup failed.
    type Error: std::fmt::Display;

    /// The key with id `key_id`, if the source has one.
    fn find_key(
        &self,
        key_id: &str,
    ) -> impl Future<Output = Result<Option<Jwk>, Self::Error>> + Send;
}

impl KeySource for Jwks {
    type Error = Infallible;

    async fn find_key(&self, key_id: &str) -> Result<Option<Jwk>, Infallible> {
        Ok(self.find(key_id).cloned())
    }
}

/// What [`check`] extracted from a request, before the key lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedSignature {
    /// `keyid`.
    pub key_id: String,
    /// `created`.
    pub created: u64,
    /// The signature base the signature must be over.
    pub base: String,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

/// Verifies a request's signature: structure, required components, digest, time, then the
/// Ed25519 signature with the key `keys` has for `keyid`.
///
/// # Errors
/// [`VerifyError`] saying what is wrong.
pub async fn verify<K: KeySource + Sync>(
    request: &SignedRequest<'_>,
    keys: &K,
    options: VerifyOptions,
) -> Result<VerifiedSignature, VerifyError> {
    let parsed = check(request, options)?;
    let jwk = keys
        .find_key(&parsed.key_id)
        .await
        .map_err(|e| VerifyError::KeySource(e.to_string()))?
        .ok_or_else(|| VerifyError::UnknownKey(parsed.key_id.clone()))?;
    let key = jwk
        .verifying_key()
        .map_err(|_| VerifyError::UnknownKey(parsed.key_id.clone()))?;
    if !key.verify(parsed.base.as_bytes(), &parsed.signature) {
        return Err(VerifyError::BadSignature);
    }
    Ok(VerifiedSignature {
        key_id: parsed.key_id,
        created: parsed.created,
    })
}

/// Everything [`verify`] checks that needs no key: header syntax, covered components, the
/// digest and length of the body, and the time window. Returns the signature base.
///
/// # Errors
/// [`VerifyError`] saying what is wrong.
pub fn check(
    request: &SignedRequest<'_>,
    options: VerifyOptions,
) -> Result<ParsedSignature, VerifyError> {
    let input = header(request.headers, "signature-input")?;
    let inputs: Dictionary = Parser::new(&input)
        .parse()
        .map_err(|_| VerifyError::Malformed("Signature-Input"))?;
    let Some(ListEntry::InnerList(list)) = inputs.get(LABEL) else {
        return Err(VerifyError::MissingLabel);
    };

    let mut components = Vec::with_capacity(list.items.len());
    for item in &list.items {
        let BareItem::String(name) = &item.bare_item else {
            return Err(VerifyError::Malformed("Signature-Input"));
        };
        let name = name.as_str();
        if !item.params.is_empty()
            || name.bytes().any(|b| b.is_ascii_uppercase())
            || name.is_empty()
        {
            return Err(VerifyError::InvalidComponent(name.to_owned()));
        }
        components.push(name.to_owned());
    }
    let covers = |name: &str| components.iter().any(|c| c == name);

    let mut key_id = None;
    let mut created = None;
    for (name, value) in &list.params {
        match (name.as_str(), value) {
            ("keyid", BareItem::String(s)) => key_id = Some(s.as_str().to_owned()),
            ("created", BareItem::Integer(i)) => created = u64::try_from(i64::from(*i)).ok(),
            ("alg", BareItem::String(s)) if s.as_str() != "ed25519" => {
                return Err(VerifyError::UnsupportedAlgorithm(s.as_str().to_owned()));
            }
            ("expires", BareItem::Integer(i))
                if i64::from(*i) < i64::try_from(options.now).unwrap_or(i64::MAX) =>
            {
                return Err(VerifyError::Stale);
            }
            ("keyid" | "created" | "expires", _) => {
                return Err(VerifyError::Malformed("Signature-Input"));
            }
            _ => {}
        }
    }
    let key_id = key_id.ok_or(VerifyError::MissingKeyId)?;
    let created = created.ok_or(VerifyError::MissingCreated)?;
    if let Some(skew) = options.max_skew
        && created.abs_diff(options.now) > skew.as_secs()
    {
        return Err(VerifyError::Stale);
    }

    for required in ["@method", "@target-uri"] {
        if !covers(required) {
            return Err(VerifyError::MissingComponent(required));
        }
    }
    if request.headers.contains_key(http::header::AUTHORIZATION) && !covers("authorization") {
        return Err(VerifyError::MissingComponent("authorization"));
    }
    if !request.body.is_empty() {
        for required in ["content-digest", "content-length", "content-type"] {
            if !covers(required) {
                return Err(VerifyError::MissingComponent(required));
            }
        }
    }
    if request.headers.contains_key("content-digest") {
        check_digest(&header(request.headers, "content-digest")?, request.body)?;
    }
    if covers("content-length")
        && header(request.headers, "content-length")? != request.body.len().to_string()
    {
        return Err(VerifyError::DigestMismatch);
    }

    let mut values = Vec::with_capacity(components.len());
    for name in &components {
        let value = match name.as_str() {
            "@method" => request.method.to_ascii_uppercase(),
            "@target-uri" => request.target_uri.to_owned(),
            derived if derived.starts_with('@') => {
                return Err(VerifyError::UnsupportedComponent(derived.to_owned()));
            }
            field => header(request.headers, field)?,
        };
        values.push(value);
    }
    let mut serializer = ListSerializer::new();
    serializer.members([&ListEntry::InnerList(list.clone())]);
    let params = serializer
        .finish()
        .ok_or(VerifyError::Malformed("Signature-Input"))?;
    let base = signature_base(
        components
            .iter()
            .map(String::as_str)
            .zip(values.iter().map(String::as_str)),
        &params,
    );

    let signatures: Dictionary = Parser::new(&header(request.headers, "signature")?)
        .parse()
        .map_err(|_| VerifyError::Malformed("Signature"))?;
    let Some(ListEntry::Item(item)) = signatures.get(LABEL) else {
        return Err(VerifyError::MissingLabel);
    };
    let BareItem::ByteSequence(signature) = &item.bare_item else {
        return Err(VerifyError::Malformed("Signature"));
    };
    Ok(ParsedSignature {
        key_id,
        created,
        base,
        signature: signature.clone(),
    })
}

/// A header's value as RFC 9421 covers it: each instance trimmed, instances joined by `, `.
fn header(headers: &HeaderMap, name: &str) -> Result<String, VerifyError> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().map(str::trim))
        .collect::<Result<_, _>>()
        .map_err(|_| VerifyError::MissingHeader(name.to_owned()))?;
    if values.is_empty() {
        return Err(VerifyError::MissingHeader(name.to_owned()));
    }
    Ok(values.join(", "))
}

fn check_digest(value: &str, body: &[u8]) -> Result<(), VerifyError> {
    let digests: Dictionary = Parser::new(value)
        .parse()
        .map_err(|_| VerifyError::Malformed("Content-Digest"))?;
    if digests.is_empty() {
        return Err(VerifyError::Malformed("Content-Digest"));
    }
    for (algorithm, entry) in &digests {
        let ListEntry::Item(item) = entry else {
            return Err(VerifyError::Malformed("Content-Digest"));
        };
        let BareItem::ByteSequence(expected) = &item.bare_item else {
            return Err(VerifyError::Malformed("Content-Digest"));
        };
        let actual = match algorithm.as_str() {
            "sha-256" => digest(&SHA256, body),
            "sha-512" => digest(&SHA512, body),
            other => return Err(VerifyError::UnsupportedDigest(other.to_owned())),
        };
        if actual.as_ref() != expected.as_slice() {
            return Err(VerifyError::DigestMismatch);
        }
    }
    Ok(())
}
