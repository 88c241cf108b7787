//! Routes, handlers and the JSON error body (`{"error": "..."}` with the status).

use crate::upload;
use crate::App;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use paws_vision::VisionError;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;
use tower_http::timeout::TimeoutLayer;

const PAGE: &str = include_str!("static/index.html");
const SCRIPT: &str = include_str!("static/app.js");
const STYLE: &str = include_str!("static/app.css");
const ICON: &str = include_str!("static/favicon.svg");

/// Seconds a client is told to wait after a 503.
const RETRY_AFTER_SECS: u64 = 2;

pub(crate) fn routes(app: Arc<App>) -> Router {
    let limits = app.limits.clone();
    Router::new()
        .route("/", get(page))
        .route("/app.js", get(script))
        .route("/app.css", get(style))
        .route("/favicon.svg", get(icon))
        .route("/health", get(health))
        .route("/api/model", get(model))
        .route("/api/predict", post(predict))
        .fallback(not_found)
        .with_state(app)
        // The body is read and bounded by `upload::read`; the form parser then reads
        // from memory and must not apply axum's default 2 MB bound.
        .layer(DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
}

/// An error answer: its status and a message for the person or app that sent it.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    fn busy(message: &str) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        response
    }
}

/// The status for an image that cannot be used: 415 not an image, 413 too many
/// pixels, 422 an image that does not decode (truncated, corrupt).
fn image_error(e: VisionError) -> ApiError {
    let status = match &e {
        VisionError::UnknownFormat { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        VisionError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        VisionError::Decode { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, e.to_string())
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

async fn page() -> Response {
    let mut response = asset("text/html; charset=utf-8", PAGE);
    // Only this service's own script and style; photos are shown from blob: URLs.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'",
        ),
    );
    response
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

async fn icon() -> Response {
    asset("image/svg+xml", ICON)
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such page")
}

async fn model(State(app): State<Arc<App>>) -> Json<Value> {
    let model = app.predictor.model();
    Json(json!({
        "paws_version": env!("CARGO_PKG_VERSION"),
        "format": model.format,
        "file": app.predictor.model_path().display().to_string(),
        "extractor": model.extractor,
        "feature_dim": model.feature_dim,
        "temperature": model.temperature,
        "breeds": model.breeds.iter().map(|b| json!({
            "name": b.name,
            "species": b.species,
        })).collect::<Vec<_>>(),
        "limits": {
            "max_upload_bytes": app.limits.max_upload_bytes,
            "max_pixels": app.limits.max_pixels,
            "unsure_below": app.limits.unsure_below,
        },
    }))
}

async fn predict(State(app): State<Arc<App>>, req: Request) -> Result<Json<Value>, ApiError> {
    let start = Instant::now();
    // Admission first: a full service refuses without keeping the body or queueing
    // for the CNN (the body is read and discarded, so the client gets the 503).
    let Some(_admitted) = app.admission.admit() else {
        upload::drain(req.into_body(), app.limits.max_upload_bytes).await;
        return Err(ApiError::busy(
            "busy: too many photos in progress, try again shortly",
        ));
    };
    let upload = upload::read(req, app.limits.max_upload_bytes).await?;
    // Sniff and bound the image before queueing for the CNN.
    let max_pixels = app.limits.max_pixels;
    let probe = app
        .predictor
        .probe(&upload.bytes, &upload.name, max_pixels)
        .map_err(image_error)?;
    let worker = tokio::time::timeout(app.limits.request_timeout, app.admission.worker())
        .await
        .map_err(|_| ApiError::busy("busy: no worker became free in time, try again shortly"))?;
    let task_app = app.clone();
    let name = upload.name.clone();
    let top = tokio::task::spawn_blocking(move || {
        // The slot lives as long as the CNN run, even if the request is gone.
        let _worker = worker;
        task_app
            .predictor
            .predict(&upload.bytes, &name, max_pixels, 3)
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("prediction failed: {e}"),
        )
    })?
    .map_err(image_error)?;

    let best = &top[0];
    let sure = best.score >= app.limits.unsure_below;
    let elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
    log::info!(
        "predict {} ({}x{}): {} {:.3}{} in {:.0} ms",
        upload.name,
        probe.width,
        probe.height,
        best.breed,
        best.score,
        if sure { "" } else { " (not sure)" },
        elapsed_ms
    );
    Ok(Json(json!({
        "top": top,
        "species": best.species,
        "sure": sure,
        "unsure_below": app.limits.unsure_below,
        "image": {
            "format": format!("{:?}", probe.format).to_lowercase(),
            "width": probe.width,
            "height": probe.height,
        },
        "elapsed_ms": elapsed_ms,
    })))
}
