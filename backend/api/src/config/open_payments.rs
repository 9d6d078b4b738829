//! The platform's Open Payments client identity and the rules for calls to wallet providers.

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use shifting_open_payments::SigningKey;
use shifting_open_payments::fetch_policy::FetchPolicy;
use shifting_shared::WalletAddress;

use super::Problems;

/// The Open Payments settings as read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Raw {
    /// `SHIFTING_OP_WALLET_ADDRESS`: the platform's Open Payments client wallet address.
    pub op_wallet_address: Option<String>,
    /// `SHIFTING_OP_KEY_ID`: the id of the key registered at that wallet address.
    pub op_key_id: Option<String>,
    /// `SHIFTING_OP_PRIVATE_KEY_FILE`: a file holding the private key.
    pub op_private_key_file: Option<PathBuf>,
    /// `SHIFTING_OP_PRIVATE_KEY`: the private key (PEM, or base64 of the PEM) instead.
    pub op_private_key: Option<SecretString>,
    /// `SHIFTING_OUTBOUND_ROOT_CERTIFICATES`: PEM file of extra trusted roots for outbound calls.
    pub outbound_root_certificates: Option<PathBuf>,
    /// `SHIFTING_OUTBOUND_PRIVATE_HOSTS`: comma-separated hosts or CIDRs exempt from the
    /// internal-address rule of outbound calls.
    pub outbound_private_hosts: String,
}

/// The validated Open Payments settings.
#[derive(Clone, Debug, Default)]
pub struct OpenPaymentsSettings {
    /// The platform's identity; `None` runs on the sandbox.
    pub identity: Option<OpIdentity>,
    /// Extra trusted roots (PEM) for outbound calls.
    pub outbound_root_certificates: Option<Vec<u8>>,
    /// Hosts or CIDRs exempt from the internal-address rule of outbound calls.
    pub outbound_private_hosts: Vec<String>,
}

/// The platform's Open Payments client identity, validated (the key loads).
#[derive(Clone, Debug)]
pub struct OpIdentity {
    /// Client wallet address (canonical https URL).
    pub wallet_address: String,
    /// Key id.
    pub key_id: String,
    /// The private key text (PEM or base64 of it).
    pub private_key: SecretString,
}

impl Raw {
    pub(super) fn validate(self, problems: &mut Problems) -> OpenPaymentsSettings {
        let identity = self.identity(problems);
        let outbound_private_hosts: Vec<String> = self
            .outbound_private_hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect();
        if let Err(err) = FetchPolicy::real().with_exemptions(&outbound_private_hosts) {
            problems.push(format!("outbound_private_hosts: {err}"));
        }
        let outbound_root_certificates = match &self.outbound_root_certificates {
            None => None,
            Some(path) => match std::fs::read(path) {
                Ok(pem)
                    if String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") =>
                {
                    Some(pem)
                }
                Ok(_) => {
                    problems.push(format!(
                        "outbound_root_certificates: {} holds no PEM certificate",
                        path.display()
                    ));
                    None
                }
                Err(err) => {
                    problems.push(format!(
                        "outbound_root_certificates: cannot read {}: {err}",
                        path.display()
                    ));
                    None
                }
            },
        };
        OpenPaymentsSettings {
            identity,
            outbound_root_certificates,
            outbound_private_hosts,
        }
    }

    /// The identity: all of wallet address, key id and key, or none.
    fn identity(&self, problems: &mut Problems) -> Option<OpIdentity> {
        let key = self.private_key(problems)?;
        match (&self.op_wallet_address, &self.op_key_id, key) {
            (None, None, None) => None,
            (Some(wallet), Some(key_id), Some(key)) => {
                let wallet = match WalletAddress::parse(wallet) {
                    Ok(wallet) => wallet,
                    Err(err) => {
                        problems.push(format!("op_wallet_address {err}"));
                        return None;
                    }
                };
                // Never echo the key: say only what is wrong with it.
                if let Err(err) = SigningKey::from_pem(key_id, key.expose_secret()) {
                    let text = key.expose_secret().trim_start();
                    let hint = if text.starts_with('/') || text.starts_with('.') {
                        " (if it is meant as a file path: no such file)"
                    } else {
                        ""
                    };
                    problems.push(format!(
                        "the Open Payments private key is unusable: {err}{hint}"
                    ));
                    return None;
                }
                Some(OpIdentity {
                    wallet_address: wallet.as_str().to_owned(),
                    key_id: key_id.clone(),
                    private_key: key,
                })
            }
            _ => {
                problems.push(
                    "the Open Payments identity needs all of op_wallet_address, op_key_id and op_private_key (or op_private_key_file)",
                );
                None
            }
        }
    }

    /// The key text, read from its file where one is named; `None` (outer) after a problem.
    #[allow(clippy::option_option)]
    fn private_key(&self, problems: &mut Problems) -> Option<Option<SecretString>> {
        let read = |path: &Path, name: &str, problems: &mut Problems| match std::fs::read_to_string(
            path,
        ) {
            Ok(text) => Some(Some(SecretString::from(text))),
            Err(err) => {
                problems.push(format!("{name}: cannot read {}: {err}", path.display()));
                None
            }
        };
        match (&self.op_private_key, &self.op_private_key_file) {
            (Some(_), Some(_)) => {
                problems.push("set only one of op_private_key and op_private_key_file");
                None
            }
            // A path in place of the key: read it, as `op_private_key_file` would.
            (Some(key), None) => match key_file_path(key.expose_secret()) {
                Some(path) => read(&path, "op_private_key: the key file", problems),
                None => Some(Some(key.clone())),
            },
            (None, Some(path)) => read(path, "op_private_key_file", problems),
            (None, None) => Some(None),
        }
    }
}

/// `op_private_key` names a file when it holds no PEM armour and an existing file has that
/// path.
fn key_file_path(value: &str) -> Option<PathBuf> {
    let value = value.trim();
    let path = Path::new(value);
    (!value.contains("-----BEGIN") && path.is_file()).then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, RawSettings, Settings};

    const TEST_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----";
    const WALLET: &str = "$ilp.interledger-test.dev/shifting";

    fn with(open_payments: Raw) -> Result<Settings, ConfigError> {
        Settings::from_raw(RawSettings {
            open_payments,
            mail: smtp(),
            ..RawSettings::default()
        })
    }

    /// A real identity needs a mail server.
    fn smtp() -> crate::config::mail::Raw {
        crate::config::mail::Raw {
            smtp_url: Some("smtps://mail.example.com".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_sandboxs_test_switches_are_refused_with_a_real_identity() {
        let identity = || Raw {
            op_wallet_address: Some(WALLET.into()),
            op_key_id: Some("k".into()),
            op_private_key: Some(TEST_PEM.into()),
            ..Raw::default()
        };
        assert!(with(identity()).is_ok());
        let without_mail = Settings::from_raw(RawSettings {
            open_payments: identity(),
            ..RawSettings::default()
        });
        assert!(
            without_mail.unwrap_err().0[0].starts_with("smtp_url is required"),
            "the local mailbox is for the sandbox only"
        );
        let mut raw = RawSettings {
            open_payments: identity(),
            mail: smtp(),
            ..RawSettings::default()
        };
        raw.sandbox.sandbox_clock_ahead_secs = 60;
        raw.sandbox.sandbox_test_holds = true;
        let ConfigError(problems) = Settings::from_raw(raw).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("sandbox_clock_ahead_secs is a test switch"));
        assert!(problems[1].starts_with("sandbox_test_holds is a test switch"));

        // On the sandbox they are accepted, and the clock starts ahead.
        let mut raw = RawSettings::default();
        raw.sandbox.sandbox_clock_ahead_secs = 60;
        raw.sandbox.sandbox_test_holds = true;
        let settings = Settings::from_raw(raw).unwrap();
        assert_eq!(settings.clock.ahead(), std::time::Duration::from_secs(60));
        assert!(settings.sandbox.switches.test_holds);
    }

    #[test]
    fn an_open_payments_identity_is_all_or_nothing_and_its_key_must_load() {
        let partial = Raw {
            op_wallet_address: Some(WALLET.into()),
            ..Raw::default()
        };
        let ConfigError(problems) = with(partial).unwrap_err();
        assert!(problems[0].contains("needs all of"), "{problems:?}");

        let bad_key = Raw {
            op_wallet_address: Some(WALLET.into()),
            op_key_id: Some("k".into()),
            op_private_key: Some(
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".into(),
            ),
            ..Raw::default()
        };
        let ConfigError(problems) = with(bad_key).unwrap_err();
        assert!(
            problems[0].contains("private key is unusable") && !problems[0].contains("AAAA"),
            "{problems:?}"
        );

        let http_wallet = Raw {
            op_wallet_address: Some("http://ilp.example/shifting".into()),
            op_key_id: Some("k".into()),
            op_private_key: Some(TEST_PEM.into()),
            ..Raw::default()
        };
        assert!(with(http_wallet).is_err());

        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("private.key");
        std::fs::write(&key_file, TEST_PEM).unwrap();
        let good = Raw {
            op_wallet_address: Some(WALLET.into()),
            op_key_id: Some("test-key-ed25519".into()),
            op_private_key_file: Some(key_file.clone()),
            outbound_private_hosts: "wallet.internal, 10.1.0.0/16".into(),
            ..Raw::default()
        };
        let settings = with(good).unwrap().open_payments;
        let identity = settings.identity.unwrap();
        assert_eq!(
            identity.wallet_address,
            "https://ilp.interledger-test.dev/shifting"
        );
        assert_eq!(
            settings.outbound_private_hosts,
            ["wallet.internal", "10.1.0.0/16"]
        );
        assert!(
            !format!("{identity:?}").contains("MC4C"),
            "Debug must not show the key"
        );

        // SHIFTING_OP_PRIVATE_KEY may also name the file.
        let by_path = Raw {
            op_wallet_address: Some(WALLET.into()),
            op_key_id: Some("test-key-ed25519".into()),
            op_private_key: Some(key_file.display().to_string().into()),
            ..Raw::default()
        };
        let from_path = with(by_path).unwrap().open_payments.identity.unwrap();
        assert_eq!(from_path.private_key.expose_secret(), TEST_PEM);
        let missing = Raw {
            op_wallet_address: Some(WALLET.into()),
            op_key_id: Some("test-key-ed25519".into()),
            op_private_key: Some("/nonexistent/private.key".into()),
            ..Raw::default()
        };
        assert!(with(missing).is_err());
        let both = Raw {
            op_private_key: Some(TEST_PEM.into()),
            op_private_key_file: Some(key_file),
            ..Raw::default()
        };
        let ConfigError(problems) = with(both).unwrap_err();
        assert!(problems[0].contains("only one of"), "{problems:?}");
    }

    #[test]
    fn outbound_settings_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("roots.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let raw = Raw {
            outbound_private_hosts: "not a host!".into(),
            outbound_root_certificates: Some(not_pem),
            ..Raw::default()
        };
        let ConfigError(problems) = with(raw).unwrap_err();
        let all = problems.join("\n");
        assert!(
            all.contains("outbound_private_hosts") && all.contains("outbound_root_certificates"),
            "{all}"
        );
    }
}
