//! The HTTP server loop: accepting connections, the per-connection limits, graceful shutdown.
//!
//! Unlike `axum::serve`, this loop gives a client `header_read_timeout` to send its request
//! headers, so slow clients (slowloris) cannot hold connections open forever, and it holds at
//! most `max_connections` connections: one more is answered `503` in our JSON error format and
//! closed, so a flood of connections costs a bounded amount of memory and the connections
//! already open keep being served.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::Router;
use shifting_open_payments::Clock;
use shifting_shared::{ErrorBody, ErrorCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// How many connections over the limit are answered `503` at once; beyond that they are
/// closed without an answer (the `503` itself must not become the flood's amplifier).
pub const MAX_REJECTING: usize = 256;

/// How long a connection over the limit is given to send its request before the `503`.
const REJECT_READ_TIMEOUT: Duration = Duration::from_secs(1);

/// Limits applied to every connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a client may take to send its request headers (also the idle keep-alive time).
    pub header_read_timeout: Duration,
    /// The most connections served at once.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets open connections finish
/// (at most 30 s).
///
/// # Errors
/// Never: accept errors (too many open files …) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    clock: Clock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use tower::{Service, ServiceExt};

    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(ClockTimer(clock.clone()))
        .header_read_timeout(limits.header_read_timeout);
    // HTTP/2 has no header timeout: pings find peers that are gone.
    builder
        .http2()
        .timer(ClockTimer(clock.clone()))
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(Duration::from_secs(20));
    let graceful = GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let rejecting = Arc::new(Semaphore::new(MAX_REJECTING));
    // A flood of connections must not become a flood of log lines: at most one a second.
    let mut warned_at: Option<tokio::time::Instant> = None;
    let mut rejected_since_warning: u64 = 0;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            rejected_since_warning += 1;
            if warned_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                tracing::warn!(
                    %remote,
                    rejected = rejected_since_warning,
                    max_connections = limits.max_connections,
                    "connection limit reached; answering 503"
                );
                warned_at = Some(tokio::time::Instant::now());
                rejected_since_warning = 0;
            }
            match Arc::clone(&rejecting).try_acquire_owned() {
                Ok(permit) => {
                    tokio::spawn(async move {
                        reject(stream).await;
                        drop(permit);
                    });
                }
                Err(_) => drop(stream),
            }
            continue;
        };
        let Ok(service) = make_service.call(remote).await;
        let service = service.map_request(|request: axum::http::Request<hyper::body::Incoming>| {
            request.map(axum::body::Body::new)
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let clock = clock.clone();
        tokio::spawn(async move {
            // hyper's header timeout starts once it knows the protocol: a client that sends
            // nothing, or stalls inside the HTTP/2 preface, would otherwise keep its place.
            if wait_for_request(&stream, &clock, limits.header_read_timeout).await {
                let connection = builder.serve_connection_with_upgrades(
                    TokioIo::new(stream),
                    TowerToHyperService::new(service),
                );
                if let Err(err) = watcher.watch(connection.into_owned()).await {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open 30 s after shutdown began; closing them");
    }
    Ok(())
}

/// hyper's timers on our clock, so the header timeout passes when a test moves the clock.
#[derive(Clone, Debug)]
struct ClockTimer(Clock);

/// A sleep on the clock; hyper wants it `Sync`, which a future is once wrapped.
struct ClockSleep(sync_wrapper::SyncWrapper<Pin<Box<dyn Future<Output = ()> + Send>>>);

impl Future for ClockSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.get_mut().0.get_mut().as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for ClockSleep {}

impl hyper::rt::Timer for ClockTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let clock = self.0.clone();
        Box::pin(ClockSleep(sync_wrapper::SyncWrapper::new(Box::pin(
            async move { clock.sleep(duration).await },
        ))))
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep(deadline.saturating_duration_since(std::time::Instant::now()))
    }
}

/// The HTTP/2 connection preface, by which hyper tells HTTP/2 from HTTP/1.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Waits, at most `timeout`, until the client has sent enough to tell its protocol: any byte
/// that is not the start of the HTTP/2 preface, or the whole preface. False when the client
/// closes or does not get there in time.
async fn wait_for_request(stream: &TcpStream, clock: &Clock, timeout: Duration) -> bool {
    clock
        .timeout(timeout, async {
            let mut start = [0_u8; H2_PREFACE.len()];
            loop {
                match stream.peek(&mut start).await {
                    Ok(0) | Err(_) => return false,
                    Ok(n) if n == H2_PREFACE.len() || start[..n] != H2_PREFACE[..n] => return true,
                    // Part of the preface: peeking again at once would see the same bytes.
                    Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        })
        .await
        .unwrap_or(false)
}

/// The whole answer to a connection over the limit, built once.
static REJECTION: LazyLock<Vec<u8>> = LazyLock::new(rejection);

fn rejection() -> Vec<u8> {
    let body = serde_json::to_string(&ErrorBody::new(
        ErrorCode::Unavailable,
        "The server is at its connection limit. Try again in a moment.",
    ))
    .unwrap_or_default();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads what the client sends of its request (so closing does not reset the connection
/// before the client reads the answer), answers `503` and closes.
async fn reject(mut stream: TcpStream) {
    let mut buffer = [0_u8; 4096];
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(REJECT_READ_TIMEOUT, async {
        while let Ok(read) = stream.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            seen.extend_from_slice(&buffer[..read]);
            if seen.windows(4).any(|w| w == b"\r\n\r\n") || seen.len() > 16 * 1024 {
                break;
            }
        }
    })
    .await;
    let _ = tokio::time::timeout(REJECT_READ_TIMEOUT, async {
        let _ = stream.write_all(&REJECTION).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rejection_is_a_complete_http_response_with_our_error_body() {
        let text = String::from_utf8(rejection()).expect("ascii");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let parsed: ErrorBody = serde_json::from_str(body).expect("our error body");
        assert_eq!(parsed.error.code, ErrorCode::Unavailable);
    }
}
