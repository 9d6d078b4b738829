//! The reference deployment: nginx (Debian's `nginx-light`) in front of two `shifting serve`
//! replicas on one database. Behind it every client arrives from nginx's address, so the rate
//! limits must key on the client nginx names in `X-Forwarded-For`, and only because the peer is
//! a trusted proxy (`SHIFTING_TRUSTED_PROXIES`): a client talking to a replica directly cannot
//! pick its bucket by sending that header itself.

use std::net::IpAddr;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::json;

use crate::live::{LiveSocket, is_message};
use crate::processes::{Process, free_port, ready};
use crate::replicas::{Cluster, cluster_with};

/// The log-in attempts a client address may make at once (each replica counts its own).
const BURST: usize = 3;

/// nginx on its own port in front of both replicas, as the README's reference configuration
/// plus `ip_hash` (which the README suggests), so one client always meets the same replica and
/// its limiter and the bucket counts are exact.
fn nginx(cluster: &Cluster, port: u16) -> Process {
    let dir = cluster.dir.path().join("nginx");
    std::fs::create_dir_all(&dir).expect("nginx dir");
    let upstream = |url: &str| url.trim_start_matches("http://").to_owned();
    let config = format!(
        r#"daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    upstream shifting {{
        ip_hash;
        server {a};
        server {b};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://shifting;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
        }}
    }}
}}
"#,
        dir = dir.display(),
        a = upstream(&cluster.a),
        b = upstream(&cluster.b),
    );
    let file = dir.join("nginx.conf");
    std::fs::write(&file, config).expect("nginx.conf");
    let child = Command::new(nginx_binary())
        .arg("-p")
        .arg(&dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx (scripts/install-test-tools.sh installs nginx-light)");
    Process::from_child(child)
}

fn nginx_binary() -> String {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|path| std::path::Path::new(path).is_file())
        .unwrap_or("nginx")
        .to_owned()
}

/// A client on its own loopback address (the whole 127.0.0.0/8 is this machine).
fn client_from(address: &str) -> reqwest::Client {
    let local: IpAddr = address.parse().expect("an address");
    reqwest::Client::builder()
        .local_address(local)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// One wrong-password log-in with the client's own `headers`; its status.
async fn log_in(client: &reqwest::Client, base: &str, headers: &[(&str, &str)]) -> StatusCode {
    let mut request = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"login": "nobody", "password": "not the password"}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("log-in").status()
}

#[tokio::test]
async fn behind_nginx_each_client_has_its_own_bucket_and_spoofed_headers_are_ignored() {
    let cluster = cluster_with(&[
        ("SHIFTING_AUTH_RATE_LIMIT_BURST", BURST.to_string()),
        ("SHIFTING_AUTH_RATE_LIMIT_PER_MINUTE", "1".into()),
        ("SHIFTING_TRUSTED_PROXIES", "127.0.0.1/32".into()),
    ])
    .await;
    let port = free_port();
    let _nginx = nginx(&cluster, port);
    let proxy = format!("http://127.0.0.1:{port}");
    ready(&cluster.http, &format!("{proxy}/ready")).await;
    let (first, second) = (client_from("127.0.0.2"), client_from("127.0.0.3"));

    // The first client uses up its attempts through the proxy…
    for _ in 0..BURST {
        assert_eq!(log_in(&first, &proxy, &[]).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        log_in(&first, &proxy, &[]).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // …and a header of its own naming another address does not get it a new bucket: nginx
    // appends the real peer to X-Forwarded-For (the rightmost untrusted hop), and passes a
    // Forwarded header on untouched, so that one is never read.
    for spoofed in [
        ("x-forwarded-for", "198.51.100.9"),
        ("forwarded", "for=198.51.100.9"),
        ("x-forwarded-for", "198.51.100.9, garbage"),
    ] {
        assert_eq!(
            log_in(&first, &proxy, &[spoofed]).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{spoofed:?}"
        );
    }
    // Another client behind the same proxy is not locked out.
    assert_eq!(log_in(&second, &proxy, &[]).await, StatusCode::UNAUTHORIZED);

    // Straight to a replica, from an address that is no trusted proxy: the header is ignored,
    // whatever it says, and the peer address is the bucket.
    let direct = client_from("127.0.0.4");
    for i in 0..BURST {
        let spoofed = format!("203.0.113.{i}");
        assert_eq!(
            log_in(&direct, &cluster.a, &[("x-forwarded-for", &spoofed)]).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        log_in(&direct, &cluster.a, &[("x-forwarded-for", "203.0.113.200")]).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn live_sockets_work_through_nginx() {
    let cluster = cluster_with(&[("SHIFTING_TRUSTED_PROXIES", "127.0.0.1/32".into())]).await;
    let port = free_port();
    let _nginx = nginx(&cluster, port);
    let proxy = format!("http://127.0.0.1:{port}");
    ready(&cluster.http, &format!("{proxy}/ready")).await;
    let token =
        crate::processes::trader(&cluster.http, &proxy, &cluster.sandbox, "seller", "alice").await;
    let buyer =
        crate::processes::trader(&cluster.http, &proxy, &cluster.sandbox, "buyer", "bruno").await;
    let room = crate::processes::json(
        cluster
            .http
            .post(format!("{proxy}/api/rooms"))
            .bearer_auth(&token)
            .json(&json!({"name": "Lesson", "price": "5.00"})),
    )
    .await;
    let code = room["code"].as_str().expect("code");
    let conversation = crate::processes::json(
        cluster
            .http
            .post(format!("{proxy}/api/rooms/{code}/conversation"))
            .bearer_auth(&buyer),
    )
    .await;
    let (mut socket, _) = LiveSocket::connect(&proxy, &token, None).await;
    let posted = crate::processes::json(
        cluster
            .http
            .post(format!(
                "{proxy}/api/conversations/{}/messages",
                conversation["id"].as_str().expect("id")
            ))
            .bearer_auth(&buyer)
            .json(&json!({"text": "Through the proxy"})),
    )
    .await;
    assert_eq!(socket.until(is_message).await["message"], posted);
}
