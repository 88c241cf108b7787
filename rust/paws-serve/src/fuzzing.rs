//! The entry point of the `upload` fuzz target (`rust/paws-fuzz`), with its checks,
//! shared with the replay of its corpus (`tests/fuzz_corpus.rs`): a check that fails
//! panics, which is what libFuzzer reports.

use crate::upload;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;

/// The target's upload bound: small, so that the 413 paths are reached.
pub const MAX_UPLOAD: usize = 4096;

/// The photo's bytes and name, or the error answer's status and message.
pub type Answer = Result<(Vec<u8>, String), (u16, String)>;

/// The `upload` target: the first line of `data` is the `Content-Type` (none when there
/// is no line break), the rest the body of a `POST /api/predict`. Either the photo's
/// bytes (never empty, never over [`MAX_UPLOAD`]; a raw body whole) or a 4xx answer
/// with a message: never a panic, a 5xx or a hang.
pub fn upload(data: &[u8]) -> Answer {
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (Some(&data[..i]), &data[i + 1..]),
        None => (None, data),
    };
    let (answer, form) = read(content_type, body);
    match &answer {
        Ok((bytes, _)) => {
            assert!(!bytes.is_empty() && bytes.len() <= MAX_UPLOAD);
            assert!(form || bytes == body, "a raw body is the photo, whole");
        }
        Err((status, message)) => {
            assert!((400..500).contains(status), "{status}: {message}");
            assert!(!message.is_empty(), "{status} without a message");
        }
    }
    answer
}

/// What `POST /api/predict` reads from a request with this `Content-Type` and body,
/// outside a server, and whether the service read it as a form (its own test,
/// `upload::is_form`). A header value that HTTP forbids is a 400, as the server's HTTP
/// layer refuses it before paws sees it.
fn read(content_type: Option<&[u8]>, body: &[u8]) -> (Answer, bool) {
    let mut request = Request::builder().method("POST").uri("/api/predict");
    let mut form = false;
    if let Some(value) = content_type {
        let value = match HeaderValue::from_bytes(value) {
            Ok(value) => value,
            Err(e) => return (Err((400, format!("bad Content-Type: {e}"))), false),
        };
        form = upload::is_form(&value);
        request = request.header(CONTENT_TYPE, value);
    }
    (answer(request, body), form)
}

fn answer(request: axum::http::request::Builder, body: &[u8]) -> Answer {
    let request = request
        .body(Body::from(body.to_vec()))
        .map_err(|e| (400, e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| (500, format!("starting a runtime: {e}")))?;
    runtime
        .block_on(upload::read(request, MAX_UPLOAD))
        .map(|u| (u.bytes.to_vec(), u.name))
        .map_err(|e| (e.status().as_u16(), e.message().to_string()))
}
