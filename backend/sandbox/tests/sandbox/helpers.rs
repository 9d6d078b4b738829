//! A sandbox on a free port with a fresh SQLite file, our Open Payments client with the
//! platform identity, a browser-like HTTP client for the consent page, and the steps of the
//! checkout as typed helpers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};
use shifting_open_payments::client::{
    ClientConfig, ClientIdentity, OpenPaymentsClient, OpenPaymentsError,
};
use shifting_open_payments::fetch_policy::FetchPolicy;
use shifting_open_payments::signatures::{RequestToSign, sign};
use shifting_open_payments::types::{
    AccessAction, AccessItem, AccessToken, Amount, Continuation, CreateIncomingPayment,
    CreateOutgoingPayment, GrantOutcome, IncomingPayment, InteractRequest, InteractResponse,
    Limits, OutgoingPayment, Quote, WalletAddress,
};
use shifting_open_payments::{Jwks, SigningKey};
use shifting_sandbox::{Sandbox, SandboxConfig};
use tempfile::TempDir;
use tokio::net::TcpListener;
use url::Url;

/// The finish URI our test "shop" gives the wallet.
pub const FINISH_URI: &str = "http://shop.example/finish?order=42";

/// A running sandbox and the clients that talk to it.
pub struct TestSandbox {
    /// `http://127.0.0.1:{port}/sandbox`.
    pub base: String,
    /// Our client, identified as the sandbox's `shifting` wallet.
    pub client: OpenPaymentsClient,
    /// The platform key published for `shifting`.
    pub key: SigningKey,
    /// The same key as PEM (keys do not clone).
    pub key_pem: String,
    /// Plain HTTP, no redirects followed.
    pub http: reqwest::Client,
    /// Where the state lives (kept for restarts).
    pub dir: TempDir,
    /// The server task, stopped on drop.
    pub server: AbortOnDrop,
}

/// Stops a server task when dropped.
pub struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts a sandbox with `wait` 0 and whatever `configure` changes.
pub async fn spawn(configure: impl FnOnce(&mut SandboxConfig)) -> TestSandbox {
    let dir = tempfile::tempdir().unwrap();
    let pem = SigningKey::generate("platform-key").unwrap().1;
    spawn_in(dir, pem, configure).await
}

/// A key from its PEM.
pub fn key(kid: &str, pem: &str) -> SigningKey {
    SigningKey::from_pem(kid, pem).unwrap()
}

/// Starts a sandbox on the state kept in `dir`.
pub async fn spawn_in(
    dir: TempDir,
    key_pem: String,
    configure: impl FnOnce(&mut SandboxConfig),
) -> TestSandbox {
    let platform_key = key("platform-key", &key_pem);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}/sandbox");
    let mut config = SandboxConfig::new(
        Url::parse(&base).unwrap(),
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("sandbox.db").display()
        ),
    );
    config.timings.wait = Duration::ZERO;
    config.published_keys = vec![(
        "shifting".to_owned(),
        Jwks {
            keys: vec![platform_key.public_jwk()],
        },
    )];
    configure(&mut config);
    let sandbox = Sandbox::open(config).await.unwrap();
    let router = Router::new().nest(sandbox.mount_path(), sandbox.router());
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    let client = client_for(
        &base,
        &format!("{base}/shifting"),
        key("platform-key", &key_pem),
    );
    TestSandbox {
        base,
        client,
        key: platform_key,
        key_pem,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        dir,
        server: AbortOnDrop(server),
    }
}

/// Our Open Payments client with identity (`wallet_address`, `key`), allowed to reach the
/// sandbox on loopback.
pub fn client_for(base: &str, wallet_address: &str, key: SigningKey) -> OpenPaymentsClient {
    let mut config = ClientConfig::new(
        ClientIdentity {
            wallet_address: wallet_address.to_owned(),
            key,
        },
        FetchPolicy::sandbox(&Url::parse(base).unwrap()),
    );
    config.attempts = 1;
    OpenPaymentsClient::new(config).unwrap()
}

/// A third-party client: its own wallet address and JWKS served on loopback.
pub struct ThirdParty {
    /// Its wallet address URL.
    pub wallet_address: String,
    /// Its key as PEM.
    pub key_pem: String,
    _server: AbortOnDrop,
}

/// Serves a client wallet address named `public_name` with a fresh key.
pub async fn third_party(sandbox: &TestSandbox, public_name: &str) -> ThirdParty {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let wallet_address = format!("http://{}/client", listener.local_addr().unwrap());
    let (key, key_pem) = SigningKey::generate("third-party-key").unwrap();
    let document = json!({
        "id": wallet_address,
        "publicName": public_name,
        "assetCode": "USD",
        "assetScale": 2,
        "authServer": format!("{}/auth", sandbox.base),
        "resourceServer": format!("{}/rs", sandbox.base),
    });
    let jwks = json!({ "keys": [key.public_jwk()] });
    let router = Router::new()
        .route("/client", get(move || async move { Json(document) }))
        .route("/client/jwks.json", get(move || async move { Json(jwks) }));
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    ThirdParty {
        wallet_address,
        key_pem,
        _server: AbortOnDrop(server),
    }
}

/// A checkout up to the pending outgoing-payment grant.
pub struct Checkout {
    pub seller: WalletAddress,
    pub buyer: WalletAddress,
    pub seller_token: AccessToken,
    pub incoming: IncomingPayment,
    pub quote: Quote,
    pub interact: InteractResponse,
    pub continuation: Continuation,
    pub nonce: String,
    pub created: SystemTime,
}

impl TestSandbox {
    /// The wallet address of account `name`.
    pub fn wallet_url(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    /// Resolves account `name` with our client.
    pub async fn wallet(&self, name: &str) -> WalletAddress {
        self.client
            .get_wallet_address(&self.wallet_url(name))
            .await
            .unwrap()
    }

    /// The balance of account `name` from `GET /accounts`.
    pub async fn balance(&self, name: &str) -> u64 {
        let accounts: Value = self
            .http
            .get(format!("{}/accounts", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        accounts["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap()["balance"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }

    /// A non-interactive incoming-payment token for `seller`.
    pub async fn incoming_token(&self, seller: &WalletAddress) -> AccessToken {
        let grant = self
            .client
            .request_grant(
                &seller.auth_server,
                vec![AccessItem::IncomingPayment {
                    actions: vec![
                        AccessAction::Create,
                        AccessAction::Read,
                        AccessAction::Complete,
                        AccessAction::List,
                    ],
                    identifier: Some(seller.id.clone()),
                }],
                None,
            )
            .await
            .unwrap();
        match grant.outcome() {
            GrantOutcome::Granted(token) => token.clone(),
            other => panic!("incoming-payment grant not granted: {other:?}"),
        }
    }

    /// A non-interactive quote token for `buyer`.
    pub async fn quote_token(&self, buyer: &WalletAddress) -> AccessToken {
        let grant = self
            .client
            .request_grant(
                &buyer.auth_server,
                vec![AccessItem::Quote {
                    actions: vec![AccessAction::Create, AccessAction::Read],
                }],
                None,
            )
            .await
            .unwrap();
        match grant.outcome() {
            GrantOutcome::Granted(token) => token.clone(),
            other => panic!("quote grant not granted: {other:?}"),
        }
    }

    /// An incoming payment of `value` minor units in the seller's asset.
    pub async fn incoming_payment(
        &self,
        seller: &WalletAddress,
        token: &AccessToken,
        value: u64,
    ) -> IncomingPayment {
        self.client
            .create_incoming_payment(
                seller,
                &token.value,
                &CreateIncomingPayment {
                    wallet_address: seller.id.clone(),
                    incoming_amount: Some(Amount {
                        value,
                        asset_code: seller.asset_code.clone(),
                        asset_scale: seller.asset_scale,
                    }),
                    expires_at: None,
                    metadata: Some(json!({ "description": "Room ABC234" })),
                },
            )
            .await
            .unwrap()
    }

    /// Requests the interactive outgoing-payment grant with `limits`.
    pub async fn outgoing_grant(
        &self,
        buyer: &WalletAddress,
        limits: Limits,
        nonce: &str,
    ) -> (InteractResponse, Continuation) {
        let grant = self
            .client
            .request_grant(
                &buyer.auth_server,
                vec![AccessItem::OutgoingPayment {
                    actions: vec![AccessAction::Create, AccessAction::Read, AccessAction::List],
                    identifier: buyer.id.clone(),
                    limits: Some(limits),
                }],
                Some(InteractRequest::redirect(FINISH_URI, nonce)),
            )
            .await
            .unwrap();
        match grant.outcome() {
            GrantOutcome::Pending(interact, continuation) => {
                (interact.clone(), continuation.clone())
            }
            other => panic!("outgoing-payment grant not pending: {other:?}"),
        }
    }

    /// Steps 1–5 of the marketplace checkout: `buyer` is to pay `price` (seller's minor
    /// units) to `seller`.
    pub async fn checkout(&self, seller: &str, buyer: &str, price: u64) -> Checkout {
        let seller = self.wallet(seller).await;
        let buyer = self.wallet(buyer).await;
        let seller_token = self.incoming_token(&seller).await;
        let incoming = self.incoming_payment(&seller, &seller_token, price).await;
        let quote_token = self.quote_token(&buyer).await;
        let quote = self
            .client
            .create_quote(&buyer, &quote_token.value, &incoming.id)
            .await
            .unwrap();
        let nonce = format!("nonce-{}", uuid::Uuid::new_v4());
        let created = SystemTime::now();
        let (interact, continuation) = self
            .outgoing_grant(
                &buyer,
                Limits {
                    receiver: Some(incoming.id.clone()),
                    debit_amount: Some(quote.debit_amount.clone()),
                    ..Limits::default()
                },
                &nonce,
            )
            .await;
        Checkout {
            seller,
            buyer,
            seller_token,
            incoming,
            quote,
            interact,
            continuation,
            nonce,
            created,
        }
    }

    /// Opens the consent page in a fresh "browser" and presses `decision`; returns the page
    /// HTML and the finish redirect.
    pub async fn consent(&self, redirect: &str, decision: &str) -> (String, Url) {
        let browser = browser();
        let page = browser.get(redirect).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        let location = press(&browser, &html, decision).await;
        (html, location)
    }

    /// Approves the checkout's grant and continues it: the outgoing-payment token.
    pub async fn approve(&self, checkout: &Checkout) -> AccessToken {
        self.approve_grant(&checkout.interact, &checkout.continuation, checkout.created)
            .await
    }

    /// Approves a pending grant on its consent page and continues it: the access token.
    pub async fn approve_grant(
        &self,
        interact: &InteractResponse,
        continuation: &Continuation,
        created: SystemTime,
    ) -> AccessToken {
        let (_, finish) = self.consent(&interact.redirect, "approve").await;
        let interact_ref = query(&finish, "interact_ref").unwrap();
        let grant = self
            .client
            .continue_grant(continuation, &interact_ref, created)
            .await
            .unwrap();
        match grant.outcome() {
            GrantOutcome::Granted(token) => token.clone(),
            other => panic!("continuation did not grant: {other:?}"),
        }
    }

    /// Creates the outgoing payment paying `quote_id` from `buyer` with `token`.
    pub async fn pay(
        &self,
        buyer: &WalletAddress,
        token: &AccessToken,
        quote_id: &str,
    ) -> Result<OutgoingPayment, OpenPaymentsError> {
        self.client
            .create_outgoing_payment(
                buyer,
                &token.value,
                &CreateOutgoingPayment {
                    wallet_address: buyer.id.clone(),
                    quote_id: quote_id.to_owned(),
                    metadata: None,
                },
            )
            .await
    }

    /// Polls the incoming payment until `done` holds (bounded by attempts, not by time).
    pub async fn wait_for_incoming(
        &self,
        id: &str,
        token: &AccessToken,
        done: impl Fn(&IncomingPayment) -> bool,
    ) -> IncomingPayment {
        for _ in 0..500 {
            let payment = self
                .client
                .get_incoming_payment(id, &token.value)
                .await
                .unwrap();
            if done(&payment) {
                return payment;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the incoming payment never reached the expected state");
    }

    /// Sends a request signed with the platform key.
    pub async fn send_signed(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Value) {
        self.send(Some(&self.key), method, url, token, body).await
    }

    /// Sends a request signed with `key` (or unsigned when `key` is `None`) and returns the
    /// status and JSON body.
    pub async fn send(
        &self,
        key: Option<&SigningKey>,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Value) {
        let parsed = Url::parse(url).unwrap();
        let authorization = token.map(|t| format!("GNAP {t}"));
        let mut request = self
            .http
            .request(method.parse().unwrap(), parsed.clone())
            .header("accept", "application/json");
        if let Some(key) = key {
            let headers = sign(
                key,
                &RequestToSign {
                    method,
                    url: &parsed,
                    authorization: authorization.as_deref(),
                    body: body.map(str::as_bytes),
                    content_type: "application/json",
                },
                now(),
            );
            for (name, value) in headers.pairs() {
                request = request.header(name, value);
            }
        } else if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        if let Some(authorization) = &authorization {
            request = request.header("authorization", authorization);
        }
        if let Some(body) = body {
            request = request.body(body.to_owned());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Opens the consent page at `redirect` in `browser`: its HTML.
pub async fn open(browser: &reqwest::Client, redirect: &str) -> String {
    browser
        .get(redirect)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Submits the consent form of `html` with `decision`; returns the redirect target.
pub async fn press(browser: &reqwest::Client, html: &str, decision: &str) -> Url {
    let response = submit(browser, html, decision).await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    location(&response)
}

/// Submits the consent form of `html` with `decision`.
pub async fn submit(browser: &reqwest::Client, html: &str, decision: &str) -> reqwest::Response {
    browser
        .post(form_action(html))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("decision", decision)
                .finish(),
        )
        .send()
        .await
        .unwrap()
}

/// The `action` of the consent form.
pub fn form_action(html: &str) -> String {
    let start = html.find("action=\"").unwrap() + "action=\"".len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].replace("&amp;", "&")
}

/// The `Location` of a redirect.
pub fn location(response: &reqwest::Response) -> Url {
    Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
}

/// A query parameter of `url`.
pub fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Unix seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
