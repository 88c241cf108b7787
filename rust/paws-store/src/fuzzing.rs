//! The entry points of the `s3` and `s3_list` fuzz targets (`rust/paws-fuzz`), with
//! their checks, shared with the replay of their corpora (`tests/fuzz_corpus.rs`): a
//! check that fails panics, which is what libFuzzer reports.
//!
//! `s3_list` needs an [`S3`] whose every HTTP call gets the same fixed answer, without a
//! network: generated server responses go through the SDK's parsers and paws' handling
//! of what they return.

use std::collections::HashSet;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::primitives::SdkBody;
use aws_smithy_runtime_api::client::http::{
    http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::http::{Response, StatusCode};

use crate::error::{Result, StoreError};
use crate::listing::{files_under, last_part, not_a_file_name};
use crate::location::S3Url;
use crate::s3::{Object, S3};

#[derive(Debug, Clone)]
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

impl HttpConnector for Answer {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        let response = Response::new(self.status, SdkBody::from(self.body.clone()));
        HttpConnectorFuture::ready(Ok(response))
    }
}

/// A client whose every request is answered with `status` and `body` (one attempt, no
/// retries: an error answer is returned at once). A status outside 100..=999 is an
/// error.
pub fn answering(status: u16, body: &[u8]) -> Result<S3> {
    let status = StatusCode::try_from(status).map_err(|e| StoreError::Service {
        what: "replay".into(),
        detail: e.to_string(),
    })?;
    let answer = Answer {
        status,
        body: body.to_vec(),
    };
    let http = http_client_fn(move |_, _| SharedHttpConnector::new(answer.clone()));
    let config = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "replay",
            "replay",
            None,
            None,
            "paws-replay",
        ))
        .endpoint_url("http://127.0.0.1:9")
        .force_path_style(true)
        .http_client(http)
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .build();
    S3::with_config(config, "replay")
}

/// The `s3` target: the first line of `data` is an `s3://` URL (what a user types), each
/// further line a key of its listing (what a server returns). The URL parses to one
/// that prints and parses back the same, or is an error naming it; the listing gives
/// the folder's files with safe local names, each once, or an error naming the key.
/// Returns the files' names or the error's message.
pub fn s3(data: &[u8]) -> std::result::Result<Vec<String>, String> {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let given = lines.next().unwrap_or_default();
    let url = match S3Url::parse(given) {
        Ok(url) => url,
        Err(e) => {
            assert!(e.to_string().starts_with(given), "{given:?}: {e}");
            return Err(e.to_string());
        }
    };
    assert_eq!(S3Url::parse(&url.to_string()).unwrap(), url);
    let prefix = url.prefix();
    assert!(prefix.is_empty() || prefix.ends_with('/'), "{prefix:?}");
    assert_eq!(url.join("x").key, format!("{prefix}x"));
    let objects: Vec<Object> = lines
        .map(|key| Object {
            url: S3Url {
                bucket: url.bucket.clone(),
                key: key.to_string(),
            },
            size: 0,
        })
        .collect();
    match files_under(&url, &objects) {
        Ok(files) => {
            let mut names = HashSet::new();
            for (object, name) in &files {
                assert_eq!(object.url.key, format!("{prefix}{name}"));
                assert_eq!(last_part(&object.url.key), *name);
                assert!(
                    not_a_file_name(name).is_none() && !name.contains('/'),
                    "{name:?}"
                );
                assert!(names.insert(*name), "{name:?} twice");
            }
            Ok(files.into_iter().map(|(_, n)| n.to_string()).collect())
        }
        Err(e) => {
            assert!(e.to_string().starts_with("s3://"), "{e}");
            Err(e.to_string())
        }
    }
}

/// The `s3_list` target: the first line of `data` is an HTTP status (200 if it is not
/// one), the rest the body of every answer; `S3::list` of `s3://pets/in/` gives the
/// objects in key order, or an error with a message. Never a panic or a listing that
/// does not end. `None` when no client can answer with that status.
pub fn s3_list(data: &[u8]) -> Option<Result<Vec<Object>>> {
    let (status, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let status = std::str::from_utf8(status)
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
        .unwrap_or(200);
    let s3 = answering(status, body).ok()?;
    let folder = S3Url::parse("s3://pets/in/").unwrap();
    let listed = s3.list(&folder);
    match &listed {
        Ok(objects) => {
            assert!(objects.windows(2).all(|w| w[0].url.key <= w[1].url.key));
            assert!(objects.iter().all(|o| o.url.bucket == "pets"));
            if let Err(e) = files_under(&folder, objects) {
                assert!(e.to_string().starts_with("s3://pets/"), "{e}");
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    Some(listed)
}
