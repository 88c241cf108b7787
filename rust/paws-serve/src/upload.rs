//! The photo of a `POST /api/predict`: the multipart field `image` (what an HTML form
//! sends) or the whole body (what a field app sends as `image/*`). Held in memory only:
//! nothing from a request is written to disk.
//!
//! The body is read here, frame by frame, up to the upload bound. A body over the
//! bound, or one that will not be used (a 503), is still read and discarded up to
//! [`DRAIN_FACTOR`] times the bound before the answer: a client still sending when the
//! answer comes would otherwise see its connection reset instead of the 413 or 503.

use crate::api::ApiError;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use http_body_util::BodyExt;

/// A form's boundaries and part headers around the photo.
const FORM_OVERHEAD: usize = 16 * 1024;
/// How much of an unwanted body is read (and discarded) before giving up on it.
const DRAIN_FACTOR: usize = 2;

/// The uploaded photo and the name it came with (for logs and errors only: the format
/// is sniffed from the content).
pub(crate) struct Upload {
    pub bytes: Bytes,
    pub name: String,
}

pub(crate) async fn read(req: Request, max_upload_bytes: usize) -> Result<Upload, ApiError> {
    let (parts, body) = req.into_parts();
    let multipart = is_multipart(&parts.headers);
    let cap = if multipart {
        max_upload_bytes + FORM_OVERHEAD
    } else {
        max_upload_bytes
    };
    let bytes = read_body(body, cap, max_upload_bytes).await?;
    let upload = if multipart {
        read_form(Request::from_parts(parts, Body::from(bytes))).await?
    } else {
        Upload {
            bytes,
            name: "upload".into(),
        }
    };
    if upload.bytes.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the upload is empty: send a photo (multipart field \"image\" or an image/* body)",
        ));
    }
    if upload.bytes.len() > max_upload_bytes {
        return Err(too_large(max_upload_bytes));
    }
    Ok(upload)
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers.get(CONTENT_TYPE).is_some_and(is_form)
}

/// Whether a `Content-Type` is a form's (`multipart/form-data; boundary=…`).
pub(crate) fn is_form(content_type: &HeaderValue) -> bool {
    content_type.to_str().is_ok_and(|v| {
        v.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
    })
}

fn too_large(max_upload_bytes: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the upload is larger than {max_upload_bytes} bytes"),
    )
}

/// The whole body, or a 413 once it passes `cap` bytes.
async fn read_body(mut body: Body, cap: usize, max_upload_bytes: usize) -> Result<Bytes, ApiError> {
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, format!("reading the upload: {e}"))
        })?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > cap {
                drop(buf);
                drain(body, cap).await;
                return Err(too_large(max_upload_bytes));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

/// The field `image` of a form held in memory.
async fn read_form(req: Request) -> Result<Upload, ApiError> {
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(e.status(), format!("reading the upload: {}", e.body_text()))
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        if field.name() == Some("image") {
            let name = field.file_name().unwrap_or("upload").to_string();
            let bytes = field.bytes().await.map_err(bad)?;
            return Ok(Upload { bytes, name });
        }
    }
    Err(ApiError::new(
        StatusCode::BAD_REQUEST,
        "the form has no field named \"image\"",
    ))
}

/// Reads and discards up to [`DRAIN_FACTOR`] times `bound` bytes of a body that will
/// not be used, frame by frame (never held whole); beyond that, the connection is left
/// to close.
pub(crate) async fn drain(body: Body, bound: usize) {
    let limit = DRAIN_FACTOR * bound;
    let mut body = body;
    let mut seen = 0usize;
    while seen <= limit {
        match body.frame().await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len()),
            _ => break,
        }
    }
}
