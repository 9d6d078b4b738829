//! Real mode over TLS: a provider on loopback behind a private CA is reachable only when the
//! operator configures both the extra root certificate and an exemption for its host.

#![allow(clippy::unwrap_used, reason = "test fixtures should fail loudly")]

use std::time::Duration;

use axum::response::IntoResponse;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use serde_json::json;
use shifting_open_payments::SigningKey;
use shifting_open_payments::client::{
    ClientConfig, ClientIdentity, OpenPaymentsClient, OpenPaymentsError,
};
use shifting_open_payments::fetch_policy::FetchPolicy;

struct TlsProvider {
    url: String,
    ca_pem: String,
}

async fn start_tls_provider() -> TlsProvider {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem(
        leaf.pem().into_bytes(),
        leaf_key.serialize_pem().into_bytes(),
    )
    .await
    .unwrap();

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("https://localhost:{port}");
    let document = json!({"id": format!("{url}/alice"), "assetCode": "EUR", "assetScale": 2,
                          "authServer": format!("{url}/auth"), "resourceServer": format!("{url}/rs")});
    let app = axum::Router::new().route(
        "/alice",
        axum::routing::get(move || async move { axum::Json(document).into_response() }),
    );
    let server = axum_server::from_tcp_rustls(listener, config).unwrap();
    tokio::spawn(async move { server.serve(app.into_make_service()).await.unwrap() });
    TlsProvider {
        url,
        ca_pem: ca.pem(),
    }
}

fn client(policy: FetchPolicy, extra_roots: Option<&str>) -> OpenPaymentsClient {
    let (key, _) = SigningKey::generate("k").unwrap();
    let mut config = ClientConfig::new(
        ClientIdentity {
            wallet_address: "https://ilp.example/shifting".into(),
            key,
        },
        policy,
    );
    config.extra_root_certificates = extra_roots.map(|pem| pem.as_bytes().to_vec());
    config.attempts = 1;
    config.request_timeout = Duration::from_secs(5);
    OpenPaymentsClient::new(config).unwrap()
}

#[tokio::test]
async fn a_private_provider_needs_both_its_root_certificate_and_an_exemption() {
    let provider = start_tls_provider().await;
    let alice = format!("{}/alice", provider.url);

    let configured = client(
        FetchPolicy::real()
            .with_exemptions(&["localhost".into()])
            .unwrap(),
        Some(&provider.ca_pem),
    );
    let document = configured.get_wallet_address(&alice).await.unwrap();
    assert_eq!(document.asset_code, "EUR");

    // Without the exemption the resolved loopback address is refused.
    let no_exemption = client(FetchPolicy::real(), Some(&provider.ca_pem));
    let err = no_exemption.get_wallet_address(&alice).await.unwrap_err();
    assert!(err.to_string().contains("internal addresses"), "{err}");

    // Without the root certificate the TLS handshake fails.
    let no_root = client(
        FetchPolicy::real()
            .with_exemptions(&["localhost".into()])
            .unwrap(),
        None,
    );
    let err = no_root.get_wallet_address(&alice).await.unwrap_err();
    assert!(matches!(err, OpenPaymentsError::Network { .. }), "{err}");
}

#[test]
fn a_root_certificate_file_without_certificates_is_refused() {
    let (key, _) = SigningKey::generate("k").unwrap();
    let mut config = ClientConfig::new(
        ClientIdentity {
            wallet_address: "https://ilp.example/shifting".into(),
            key,
        },
        FetchPolicy::real(),
    );
    config.extra_root_certificates = Some(b"not a certificate".to_vec());
    assert!(OpenPaymentsClient::new(config).is_err());
}
