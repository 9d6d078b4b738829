//! Operations metrics in the Prometheus text format, on a listener of their own
//! (`SHIFTING_METRICS_ADDR`, off by default) so they are never public by accident.
//!
//! The families:
//! - `axum_http_requests_total`, `axum_http_requests_duration_seconds`,
//!   `axum_http_requests_pending` (labels `endpoint` = the route template, `method`, `status`),
//!   kept by `axum-prometheus`'s layer;
//! - `shifting_payment_transitions_total{from,to}`: every payment status change;
//! - `shifting_worker_lag_seconds`: how long the oldest `sending` payment due for a check has
//!   been waiting for the worker, and `shifting_payments_sending`;
//! - `shifting_db_pool_connections{state="idle"|"in_use"}` and `shifting_db_pool_max`;
//! - `open_payments_requests_total{host,status}` and
//!   `open_payments_request_duration_seconds{host}`: every request to a wallet provider.
//!
//! A process has one global recorder: it is installed once ([`recorder`]), and every app a
//! process builds (tests build many) shares it.

use std::sync::OnceLock;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use axum_prometheus::utils::SECONDS_DURATION_BUCKETS;
use axum_prometheus::{
    AXUM_HTTP_REQUESTS_DURATION_SECONDS, EndpointLabel, GenericMetricLayer, Handle,
    PrometheusMetricLayerBuilder,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{
    ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
};
use shifting_open_payments::Clock;
use shifting_shared::TransactionStatus;
use tokio::net::TcpListener;

use crate::entities::transactions;

/// The process's recorder, installed by the first call.
static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The handle of the process's Prometheus recorder, installing it on first use; `None` when
/// another recorder was installed first (nothing of ours is recorded then).
pub fn recorder() -> Option<PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(AXUM_HTTP_REQUESTS_DURATION_SECONDS.to_owned()),
                    SECONDS_DURATION_BUCKETS,
                )
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Full("open_payments_request_duration_seconds".to_owned()),
                        SECONDS_DURATION_BUCKETS,
                    )
                })
                .map_err(anyhow::Error::from)
                .and_then(|builder| builder.install_recorder().map_err(anyhow::Error::from));
            match installed {
                Ok(handle) => Some(handle),
                Err(err) => {
                    tracing::warn!(error = %err, "cannot install the metrics recorder; /metrics will be empty");
                    None
                }
            }
        })
        .clone()
}

/// The layer counting HTTP requests by route template: a request no route matched (the web
/// app's pages, files, unknown paths) counts as `other`, so no caller can grow the label set.
#[must_use]
pub fn http_layer() -> GenericMetricLayer<'static, PrometheusHandle, Handle> {
    PrometheusMetricLayerBuilder::new()
        .with_endpoint_label_type(EndpointLabel::MatchedPathWithFallbackFn(|_| {
            "other".to_owned()
        }))
        .build()
}

/// Counts one payment status change.
pub(crate) fn transition(from: TransactionStatus, to: TransactionStatus) {
    metrics::counter!(
        "shifting_payment_transitions_total",
        "from" => from.as_str(),
        "to" => to.as_str()
    )
    .increment(1);
}

/// What the metrics listener reads.
#[derive(Clone, Debug)]
struct Scrape {
    handle: PrometheusHandle,
    db: DatabaseConnection,
    clock: Clock,
}

/// The metrics listener: bound at build time, served beside the API.
#[derive(Debug)]
pub struct MetricsServer {
    listener: TcpListener,
    router: Router,
}

impl MetricsServer {
    /// Binds `addr` and prepares `/metrics`.
    ///
    /// # Errors
    /// When the address cannot be bound or no recorder could be installed.
    pub async fn bind(
        addr: std::net::SocketAddr,
        db: DatabaseConnection,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let handle = recorder().context("no metrics recorder could be installed")?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen for metrics on {addr}"))?;
        let router = Router::new()
            .route("/metrics", get(render))
            .with_state(Scrape { handle, db, clock });
        Ok(Self { listener, router })
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// Serves until the task is dropped.
    ///
    /// # Errors
    /// When the listener fails.
    pub async fn run(self) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router)
            .await
            .context("the metrics listener failed")
    }
}

/// `GET /metrics`: the gauges read now, then every family in the text format.
async fn render(State(scrape): State<Scrape>) -> impl axum::response::IntoResponse {
    if let Err(err) = read_gauges(&scrape).await {
        tracing::warn!(error = %err, "cannot read the database gauges for /metrics");
    }
    scrape.handle.run_upkeep();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scrape.handle.render(),
    )
}

async fn read_gauges(scrape: &Scrape) -> anyhow::Result<()> {
    let (size, idle, max) = match scrape.db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = scrape.db.get_postgres_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        _ => {
            let pool = scrape.db.get_sqlite_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    metrics::gauge!("shifting_db_pool_connections", "state" => "idle").set(f64::from(idle));
    metrics::gauge!("shifting_db_pool_connections", "state" => "in_use")
        .set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!("shifting_db_pool_max").set(f64::from(max));

    let now = scrape.clock.now();
    let sending = transactions::Entity::find()
        .filter(transactions::Column::Status.eq(TransactionStatus::Sending.as_str()));
    let count = sending.clone().count(&scrape.db).await?;
    let oldest: Option<Option<chrono::DateTime<chrono::Utc>>> = sending
        .filter(transactions::Column::NextCheckAt.lte(now))
        .select_only()
        .column_as(transactions::Column::NextCheckAt.min(), "oldest")
        .into_tuple()
        .one(&scrape.db)
        .await?;
    let lag = oldest
        .flatten()
        .map(|due| (now - due).num_milliseconds().max(0))
        .unwrap_or(0);
    #[allow(clippy::cast_precision_loss)]
    let lag_seconds = lag as f64 / 1000.0;
    metrics::gauge!("shifting_worker_lag_seconds").set(lag_seconds);
    #[allow(clippy::cast_precision_loss)]
    metrics::gauge!("shifting_payments_sending").set(count as f64);
    Ok(())
}
