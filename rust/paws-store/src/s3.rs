//! S3 through the AWS SDK for Rust, behind a blocking API (paws computes on local files;
//! only the transfers are asynchronous, on a runtime owned by [`S3`]).
//!
//! Configuration is the SDK's standard one: the default credential chain and region
//! (`AWS_REGION`, `~/.aws/config`; us-east-1 when none is set), and the endpoint of an
//! S3-compatible store from `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`). Path-style
//! addressing is used when `PAWS_S3_FORCE_PATH_STYLE=1`, and always for an endpoint
//! whose host is an IP address or `localhost` (virtual-host names cannot work there).
//!
//! Every call is bounded in time: connecting times out after 5 s, a response that sends
//! nothing for `PAWS_S3_READ_TIMEOUT` seconds (default 30) is abandoned, and a failed
//! call is tried at most `PAWS_S3_MAX_ATTEMPTS` times (default 3) with the SDK's
//! standard backoff. No retry storm, no hang.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_s3::config::{ProvideCredentials, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use tokio::io::AsyncWriteExt;
use tokio::runtime::Runtime;

use crate::error::{describe, Result, StoreError};
use crate::location::S3Url;

/// The object that marks a finished output prefix, written after every other object
/// (Hadoop's and Spark's name for it).
pub const SUCCESS_MARKER: &str = "_SUCCESS";

/// Files larger than this are uploaded in parts of this size (S3's minimum part size is
/// 5 MiB; a failed multipart upload is aborted, so no part is left behind).
pub const MULTIPART_THRESHOLD: u64 = 8 * 1024 * 1024;

/// Objects downloaded at once by [`S3::download_all`].
pub const DOWNLOAD_CONCURRENCY: usize = 8;

/// Pages of one listing (1,000 keys each on AWS) before paws stops: a server that keeps
/// sending new continuation tokens must not keep a run listing for ever. (The SDK's
/// paginator itself stops when a token repeats.)
pub const MAX_LIST_PAGES: usize = 100_000;

/// An object under a listed prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    pub url: S3Url,
    pub size: u64,
}

/// A connected S3 client (configuration loaded, credentials found).
pub struct S3 {
    runtime: Runtime,
    client: Client,
    endpoint: String,
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Whether `endpoint` (a URL) names an IP address or localhost.
fn is_local_endpoint(endpoint: &str) -> bool {
    let host = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    host == "localhost" || host.parse::<std::net::Ipv4Addr>().is_ok() || endpoint.contains("://[")
}

/// The runtime of a client's transfers (one thread: paws computes on local files).
fn new_runtime() -> Result<Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StoreError::Service {
            what: "runtime".into(),
            detail: e.to_string(),
        })
}

impl S3 {
    /// Loads the standard AWS configuration and checks that credentials can be found.
    pub fn connect() -> Result<S3> {
        let runtime = new_runtime()?;
        let read_timeout = Duration::from_secs(env_number("PAWS_S3_READ_TIMEOUT", 30).max(1));
        let attempts = env_number("PAWS_S3_MAX_ATTEMPTS", 3).clamp(1, 10) as u32;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let sdk = runtime.block_on(
            aws_config::defaults(BehaviorVersion::latest())
                .http_client(http)
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(Duration::from_secs(5))
                        .read_timeout(read_timeout)
                        .build(),
                )
                .retry_config(RetryConfig::standard().with_max_attempts(attempts))
                .load(),
        );
        let endpoint = sdk
            .endpoint_url()
            .map(str::to_string)
            .unwrap_or_else(|| "AWS S3".to_string());
        let credentials = sdk
            .credentials_provider()
            .ok_or_else(|| StoreError::NoCredentials {
                detail: "no credentials provider configured".into(),
            })?;
        runtime
            .block_on(credentials.provide_credentials())
            .map_err(|e| StoreError::NoCredentials {
                detail: describe(&e),
            })?;
        let force_path_style = std::env::var("PAWS_S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "1")
            || sdk.endpoint_url().is_some_and(is_local_endpoint);
        let mut config = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(force_path_style);
        if sdk.region().is_none() {
            config = config.region(Region::new("us-east-1"));
        }
        log::debug!("S3: endpoint {endpoint}, path style {force_path_style}");
        Ok(S3 {
            runtime,
            client: Client::from_conf(config.build()),
            endpoint,
        })
    }

    /// A client on this `config` (for [`crate::fuzzing`]), `endpoint` naming it in
    /// messages.
    pub(crate) fn with_config(config: aws_sdk_s3::Config, endpoint: &str) -> Result<S3> {
        Ok(S3 {
            runtime: new_runtime()?,
            client: Client::from_conf(config),
            endpoint: endpoint.to_string(),
        })
    }

    /// The endpoint in use, for messages.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The S3 client, for callers (and tests) that need a call this API lacks.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs a future on this client's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Fails with a named error unless `bucket` exists and is reachable.
    pub fn check_bucket(&self, bucket: &str) -> Result<()> {
        let what = format!("HeadBucket {bucket}");
        self.block_on(self.client.head_bucket().bucket(bucket).send())
            .map(|_| ())
            .map_err(|e| self.classify(e, &what, &format!("s3://{bucket}/"), Some(bucket)))
    }

    /// The size of an object, or `None` if there is no object at `url`.
    pub fn object_size(&self, url: &S3Url) -> Result<Option<u64>> {
        let what = format!("HeadObject {url}");
        let head = self.client.head_object().bucket(&url.bucket).key(&url.key);
        match self.block_on(head.send()) {
            Ok(out) => Ok(Some(out.content_length().unwrap_or(0).max(0) as u64)),
            Err(SdkError::ServiceError(e)) if e.raw().status().as_u16() == 404 => {
                // A missing bucket is also a 404: tell the two apart.
                self.check_bucket(&url.bucket)?;
                Ok(None)
            }
            Err(e) => Err(self.classify(e, &what, &url.to_string(), Some(&url.bucket))),
        }
    }

    /// Every object under `url`'s prefix, in key order (all pages of the listing).
    pub fn list(&self, url: &S3Url) -> Result<Vec<Object>> {
        let prefix = url.prefix();
        let what = format!("ListObjectsV2 {url}");
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&url.bucket)
            .prefix(&prefix)
            .into_paginator()
            .send();
        let mut objects = Vec::new();
        self.block_on(async {
            let mut count = 0usize;
            while let Some(page) = pages.next().await {
                count += 1;
                if count > MAX_LIST_PAGES {
                    return Err(StoreError::Service {
                        what,
                        detail: format!(
                            "the listing did not end after {MAX_LIST_PAGES} pages (a server that keeps answering with new continuation tokens)"
                        ),
                    });
                }
                let page =
                    page.map_err(|e| self.classify(e, &what, &url.to_string(), Some(&url.bucket)))?;
                for object in page.contents() {
                    if let Some(key) = object.key() {
                        objects.push(Object {
                            url: S3Url {
                                bucket: url.bucket.clone(),
                                key: key.to_string(),
                            },
                            size: object.size().unwrap_or(0).max(0) as u64,
                        });
                    }
                }
            }
            Ok::<(), StoreError>(())
        })?;
        objects.sort_by(|a, b| a.url.key.cmp(&b.url.key));
        Ok(objects)
    }

    /// Whether the prefix `url` holds the `_SUCCESS` marker of a finished run.
    pub fn is_finished(&self, url: &S3Url) -> Result<bool> {
        Ok(self.object_size(&url.join(SUCCESS_MARKER))?.is_some())
    }

    /// Downloads one object to `dest` (streamed to a temporary sibling file, renamed when
    /// complete). Returns its size.
    pub fn download(&self, url: &S3Url, dest: &Path) -> Result<u64> {
        self.block_on(download_one(
            self.client.clone(),
            url.clone(),
            dest.to_path_buf(),
        ))
        .map_err(|e| self.finish_error(e))
    }

    /// Downloads `(object, destination)` pairs, [`DOWNLOAD_CONCURRENCY`] at a time, each
    /// streamed to disk (never all in memory). Stops at the first failure.
    pub fn download_all(&self, items: &[(S3Url, PathBuf)]) -> Result<u64> {
        self.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            let mut queue = items.iter().cloned();
            let mut total = 0;
            loop {
                while tasks.len() < DOWNLOAD_CONCURRENCY {
                    match queue.next() {
                        Some((url, dest)) => {
                            tasks.spawn(download_one(self.client.clone(), url, dest));
                        }
                        None => break,
                    }
                }
                match tasks.join_next().await {
                    None => return Ok(total),
                    Some(Ok(Ok(size))) => total += size,
                    Some(Ok(Err(e))) => return Err(self.finish_error(e)),
                    Some(Err(join)) => {
                        return Err(StoreError::Service {
                            what: "download".into(),
                            detail: join.to_string(),
                        })
                    }
                }
            }
        })
    }

    /// Uploads a local file to `url`: one PutObject, or a multipart upload for a file
    /// above [`MULTIPART_THRESHOLD`] (aborted on failure: the object is whole or absent).
    pub fn upload_file(&self, src: &Path, url: &S3Url) -> Result<()> {
        let size = std::fs::metadata(src)
            .map_err(|e| StoreError::io(src, e))?
            .len();
        if size > MULTIPART_THRESHOLD {
            return self.upload_multipart(src, url);
        }
        let bytes = std::fs::read(src).map_err(|e| StoreError::io(src, e))?;
        self.put_bytes(url, bytes)
    }

    /// Writes `bytes` as the object `url`.
    pub fn put_bytes(&self, url: &S3Url, bytes: Vec<u8>) -> Result<()> {
        let what = format!("PutObject {url}");
        let put = self
            .client
            .put_object()
            .bucket(&url.bucket)
            .key(&url.key)
            .body(ByteStream::from(bytes));
        self.block_on(put.send())
            .map(|_| ())
            .map_err(|e| self.classify(e, &what, &url.to_string(), Some(&url.bucket)))
    }

    /// Deletes the object `url` (no error if it does not exist).
    pub fn delete(&self, url: &S3Url) -> Result<()> {
        let what = format!("DeleteObject {url}");
        let delete = self
            .client
            .delete_object()
            .bucket(&url.bucket)
            .key(&url.key);
        self.block_on(delete.send())
            .map(|_| ())
            .map_err(|e| self.classify(e, &what, &url.to_string(), Some(&url.bucket)))
    }

    fn upload_multipart(&self, src: &Path, url: &S3Url) -> Result<()> {
        let what = format!("multipart upload of {url}");
        let created = self
            .block_on(
                self.client
                    .create_multipart_upload()
                    .bucket(&url.bucket)
                    .key(&url.key)
                    .send(),
            )
            .map_err(|e| self.classify(e, &what, &url.to_string(), Some(&url.bucket)))?;
        let upload_id = created.upload_id().unwrap_or_default().to_string();
        let result = self.upload_parts(src, url, &upload_id, &what);
        if result.is_err() {
            // Best effort: if the store is gone, the upload expires with the bucket's
            // lifecycle rule; no object was created either way.
            let abort = self
                .client
                .abort_multipart_upload()
                .bucket(&url.bucket)
                .key(&url.key)
                .upload_id(&upload_id);
            if let Err(e) = self.block_on(abort.send()) {
                log::warn!("{what}: abort failed: {}", describe(&e));
            }
        }
        result
    }

    fn upload_parts(&self, src: &Path, url: &S3Url, upload_id: &str, what: &str) -> Result<()> {
        use std::io::Read;
        let mut file = std::fs::File::open(src).map_err(|e| StoreError::io(src, e))?;
        let mut parts = Vec::new();
        for number in 1.. {
            let mut chunk = Vec::with_capacity(MULTIPART_THRESHOLD as usize);
            (&mut file)
                .take(MULTIPART_THRESHOLD)
                .read_to_end(&mut chunk)
                .map_err(|e| StoreError::io(src, e))?;
            if chunk.is_empty() {
                break;
            }
            let part = self
                .client
                .upload_part()
                .bucket(&url.bucket)
                .key(&url.key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(chunk));
            let out = self
                .block_on(part.send())
                .map_err(|e| self.classify(e, what, &url.to_string(), Some(&url.bucket)))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(out.e_tag().map(str::to_string))
                    .build(),
            );
        }
        let complete = self
            .client
            .complete_multipart_upload()
            .bucket(&url.bucket)
            .key(&url.key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            );
        self.block_on(complete.send())
            .map(|_| ())
            .map_err(|e| self.classify(e, what, &url.to_string(), Some(&url.bucket)))
    }

    /// A download task's error, with the endpoint filled in.
    fn finish_error(&self, e: DownloadError) -> StoreError {
        match e {
            DownloadError::Sdk { what, url, error } => {
                let bucket = S3Url::parse(&url).map(|u| u.bucket).ok();
                self.classify_boxed(error, &what, &url, bucket.as_deref())
            }
            DownloadError::Store(e) => e,
        }
    }

    fn classify<E, R>(
        &self,
        e: SdkError<E, R>,
        what: &str,
        url: &str,
        bucket: Option<&str>,
    ) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        self.classify_boxed(Classified::of(e), what, url, bucket)
    }

    fn classify_boxed(
        &self,
        c: Classified,
        what: &str,
        url: &str,
        bucket: Option<&str>,
    ) -> StoreError {
        let endpoint = self.endpoint.clone();
        let what = what.to_string();
        let detail = c.detail;
        match c.kind {
            Kind::Timeout => StoreError::TimedOut {
                endpoint,
                what,
                detail,
            },
            Kind::Unreachable => StoreError::Unreachable {
                endpoint,
                what,
                detail,
            },
            Kind::Code(code) => match code.as_str() {
                "NoSuchBucket" => StoreError::NoSuchBucket {
                    bucket: bucket.unwrap_or_default().to_string(),
                    endpoint,
                },
                "NoSuchKey" => StoreError::NoSuchKey {
                    url: url.to_string(),
                },
                "NotFound" if what.starts_with("HeadBucket") => StoreError::NoSuchBucket {
                    bucket: bucket.unwrap_or_default().to_string(),
                    endpoint,
                },
                "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "Forbidden" => {
                    StoreError::AccessDenied {
                        url: url.to_string(),
                        detail,
                    }
                }
                _ => StoreError::Service { what, detail },
            },
            Kind::Other => StoreError::Service { what, detail },
        }
    }
}

/// What kind of failure an SDK error is, without its type parameters (so that spawned
/// download tasks can return it).
enum Kind {
    Timeout,
    Unreachable,
    Code(String),
    Other,
}

struct Classified {
    kind: Kind,
    detail: String,
}

impl Classified {
    fn of<E, R>(e: SdkError<E, R>) -> Classified
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let detail = describe(&e);
        let kind = match &e {
            SdkError::TimeoutError(_) => Kind::Timeout,
            SdkError::DispatchFailure(d) if d.is_timeout() => Kind::Timeout,
            SdkError::DispatchFailure(d) if d.is_io() => Kind::Unreachable,
            SdkError::ResponseError(_) => Kind::Unreachable,
            SdkError::ServiceError(s) => match s.err().code() {
                Some(code) => Kind::Code(code.to_string()),
                None => Kind::Other,
            },
            _ => Kind::Other,
        };
        Classified { kind, detail }
    }
}

enum DownloadError {
    Sdk {
        what: String,
        url: String,
        error: Classified,
    },
    Store(StoreError),
}

async fn download_one(
    client: Client,
    url: S3Url,
    dest: PathBuf,
) -> std::result::Result<u64, DownloadError> {
    let what = format!("GetObject {url}");
    let sdk = |error: Classified| DownloadError::Sdk {
        what: what.clone(),
        url: url.to_string(),
        error,
    };
    let response = client
        .get_object()
        .bucket(&url.bucket)
        .key(&url.key)
        .send()
        .await
        .map_err(|e| sdk(Classified::of(e)))?;
    let temp = dest.with_file_name(format!(
        ".{}.part-{}",
        dest.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("download"),
        std::process::id()
    ));
    let io = |path: &Path, e| DownloadError::Store(StoreError::io(path, e));
    let result = async {
        let mut file = tokio::fs::File::create(&temp)
            .await
            .map_err(|e| io(&temp, e))?;
        let mut body = response.body;
        let mut size = 0u64;
        loop {
            match body.try_next().await {
                Ok(Some(chunk)) => {
                    size += chunk.len() as u64;
                    file.write_all(&chunk).await.map_err(|e| io(&temp, e))?;
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(sdk(Classified {
                        kind: Kind::Unreachable,
                        detail: describe(&e),
                    }))
                }
            }
        }
        file.flush().await.map_err(|e| io(&temp, e))?;
        drop(file);
        tokio::fs::rename(&temp, &dest)
            .await
            .map_err(|e| io(&dest, e))?;
        Ok(size)
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_endpoints_get_path_style() {
        for (endpoint, local) in [
            ("http://127.0.0.1:5000", true),
            ("http://localhost:9000/", true),
            ("http://[::1]:9000", true),
            ("https://s3.eu-west-1.amazonaws.com", false),
            ("https://minio.example.org", false),
        ] {
            assert_eq!(is_local_endpoint(endpoint), local, "{endpoint}");
        }
    }
}
