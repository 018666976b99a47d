//! A live scrape endpoint serving the current values during a run.
//!
//! It runs on its own thread with its own small runtime, so it answers scrapes whatever the
//! caller's runtime is doing, and it can be started from sync or async code alike.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::sync::oneshot;

use super::metrics::LiveMetrics;
use super::openmetrics::{OPENMETRICS_CONTENT_TYPE, render_openmetrics};
use super::prometheus_text::{PROMETHEUS_TEXT_CONTENT_TYPE, render_prometheus_text};
use crate::error::MemwatchError;

/// The router: `GET /metrics`, OpenMetrics when the `Accept` header asks for it, else
/// Prometheus text 0.0.4.
pub fn app(shared: Arc<LiveMetrics>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(shared)
}

async fn metrics(State(shared): State<Arc<LiveMetrics>>, headers: HeaderMap) -> impl IntoResponse {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let values = shared.snapshot();
    if accept.contains("application/openmetrics-text") {
        (
            [(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)],
            render_openmetrics(shared.labels(), &values),
        )
    } else {
        (
            [(header::CONTENT_TYPE, PROMETHEUS_TEXT_CONTENT_TYPE)],
            render_prometheus_text(shared.labels(), &values),
        )
    }
}

/// A running scrape endpoint; stops on [`LiveEndpoint::shutdown`] or drop.
#[derive(Debug)]
pub struct LiveEndpoint {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl LiveEndpoint {
    /// Binds `addr` (use `127.0.0.1:0` for a free loopback port) and serves `/metrics`.
    pub fn start(
        addr: SocketAddr,
        shared: Arc<LiveMetrics>,
    ) -> Result<LiveEndpoint, MemwatchError> {
        let io_err = |action, e| MemwatchError::io(action, addr.to_string(), e);
        let listener = TcpListener::bind(addr)
            .map_err(|e| io_err("cannot bind the metrics endpoint on", e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| io_err("cannot configure the metrics endpoint on", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| io_err("cannot read the address of", e))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|e| io_err("cannot start a runtime for the metrics endpoint on", e))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("memwatch-metrics".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!(error = %e, "metrics endpoint cannot listen");
                            return;
                        }
                    };
                    let served = axum::serve(listener, app(shared))
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await;
                    if let Err(e) = served {
                        tracing::error!(error = %e, "metrics endpoint failed");
                    }
                });
            })
            .map_err(|e| io_err("cannot start the metrics thread for", e))?;
        Ok(LiveEndpoint {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The scrape URL, e.g. `http://127.0.0.1:40123/metrics`.
    pub fn url(&self) -> String {
        format!("http://{}/metrics", self.addr)
    }

    /// Stops serving and waits for the server thread to end.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for LiveEndpoint {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
