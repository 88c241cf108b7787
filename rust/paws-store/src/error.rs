//! Errors of S3 access. Each names the bucket or object and says what to check; the
//! SDK's own message (with its whole cause chain) follows where it adds something.

use std::path::PathBuf;

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{url}: not an S3 URL: {why}")]
    BadUrl { url: String, why: String },

    #[error("no AWS credentials found (environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws/credentials, AWS_PROFILE, web identity, container or instance role): {detail}")]
    NoCredentials { detail: String },

    #[error("bucket {bucket} does not exist (endpoint {endpoint})")]
    NoSuchBucket { bucket: String, endpoint: String },

    /// A key that paws will not turn into a local file (see [`crate::listing`]).
    #[error("{url}: {why}")]
    BadKey { url: String, why: String },

    #[error("{url}: no such object")]
    NoSuchKey { url: String },

    #[error("{url}: no objects under this prefix")]
    EmptyPrefix { url: String },

    #[error("{url}: access denied: check the credentials and the bucket policy ({detail})")]
    AccessDenied { url: String, detail: String },

    #[error(
        "{url}: has no _SUCCESS object: the run that wrote it did not finish (or is still running)"
    )]
    NotFinished { url: String },

    #[error("cannot reach the S3 endpoint {endpoint} ({what}): {detail}")]
    Unreachable {
        endpoint: String,
        what: String,
        detail: String,
    },

    #[error("S3 {what} timed out (endpoint {endpoint}): {detail}")]
    TimedOut {
        endpoint: String,
        what: String,
        detail: String,
    },

    #[error("S3 {what} failed: {detail}")]
    Service { what: String, detail: String },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}

/// An error and its causes on one line, "a: b: c", each message once (the SDK's own
/// `DisplayErrorContext` ends with the Debug form of the whole error, too much for a
/// user's terminal).
pub(crate) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let message = e.to_string();
        if !parts.iter().any(|p| p.contains(&message)) {
            parts.push(message);
        }
        next = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("dispatch failure")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("io error: connection refused")]
    struct Inner(#[source] std::io::Error);

    #[test]
    fn describe_joins_the_chain_once_each() {
        let e = Outer(Inner(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        )));
        assert_eq!(
            describe(&e),
            "dispatch failure: io error: connection refused"
        );
    }
}
