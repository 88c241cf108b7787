//! `paws serve`: the breed predictor over HTTP, for field staff with a phone.
//!
//! - `GET /` is one page (served from this crate: no external script, font or CDN) that
//!   takes or chooses a photo, uploads it and shows the top-3 breeds.
//! - `POST /api/predict` (multipart field `image`, or a raw `image/*` body),
//!   `GET /api/model` and `GET /health` are the JSON API a field app uses.
//!
//! Uploads come from strangers, so every resource they can spend is bounded
//! ([`Limits`]): body size, declared pixels (checked before decoding), requests
//! admitted at once, CNN runs at once, and time per request. Nothing from a request is
//! written to disk.

mod admission;
mod api;
#[doc(hidden)]
pub mod fuzzing;
mod predictor;
mod upload;

pub use predictor::Predictor;

use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Every bound of the service; the defaults suit a phone photo on a small instance.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body (default 10 MB): a larger upload gets a 413.
    pub max_upload_bytes: usize,
    /// Most pixels an image may declare (default 50 megapixels, a large phone photo):
    /// more gets a 413 before any pixel is decoded.
    pub max_pixels: u64,
    /// CNN runs at once (default: the number of cores; tract uses one core per run).
    pub workers: usize,
    /// Requests that may wait for a worker; beyond `workers + queue` in flight a
    /// request gets a 503 with Retry-After at once.
    pub queue: usize,
    /// Longest a request may take, waiting included: then a 503 (waiting) or a 408.
    pub request_timeout: Duration,
    /// Below this top score the page and the API say "not sure".
    pub unsure_below: f64,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Limits {
            max_upload_bytes: 10 * 1024 * 1024,
            max_pixels: 50_000_000,
            workers: cores,
            queue: 4 * cores,
            request_timeout: Duration::from_secs(30),
            unsure_below: 0.5,
        }
    }
}

/// The shared state of every request.
pub(crate) struct App {
    pub predictor: Predictor,
    pub limits: Limits,
    pub admission: admission::Admission,
}

/// The service's routes, ready to serve.
pub fn router(predictor: Predictor, limits: Limits) -> Router {
    let admission = admission::Admission::new(limits.workers, limits.queue);
    api::routes(Arc::new(App {
        predictor,
        limits,
        admission,
    }))
}

/// Serves on `listener` until `shutdown` completes, then finishes the requests in
/// flight (graceful shutdown) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Completes on Ctrl-C or SIGTERM (what `kill` and service managers send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                log::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => log::info!("Ctrl-C: finishing the requests in flight"),
        _ = term => log::info!("SIGTERM: finishing the requests in flight"),
    }
}
