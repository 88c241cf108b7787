//! `s3://bucket/key` URLs, recognised wherever paws takes a path.

use std::fmt;
use std::path::Path;

use crate::error::{Result, StoreError};

/// A parsed `s3://bucket/key` (the key may be empty or end with `/`: a prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub key: String,
}

impl S3Url {
    /// `Some` for a path that is an `s3://` URL (an error if it is a malformed one),
    /// `None` for a local path.
    pub fn from_path(path: &Path) -> Result<Option<S3Url>> {
        match path.to_str() {
            Some(s) if s.starts_with("s3://") => S3Url::parse(s).map(Some),
            _ => Ok(None),
        }
    }

    /// Parses `s3://bucket[/key]`. `s3a://` and `s3n://` are Hadoop's names: paws tells
    /// the user to write `s3://`.
    pub fn parse(url: &str) -> Result<S3Url> {
        let bad = |why: &str| StoreError::BadUrl {
            url: url.to_string(),
            why: why.to_string(),
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("it does not start with s3://"))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name"));
        }
        // S3's rules: 3 to 63 characters, lowercase letters, digits, dots and hyphens.
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
        if !valid {
            return Err(bad(&format!(
                "'{bucket}' is not a valid bucket name (3 to 63 lowercase letters, digits, '.', '-')"
            )));
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }

    /// The key as a prefix of a "folder": empty or ending with `/`.
    pub fn prefix(&self) -> String {
        if self.key.is_empty() || self.key.ends_with('/') {
            self.key.clone()
        } else {
            format!("{}/", self.key)
        }
    }

    /// This URL with `name` appended to its prefix.
    pub fn join(&self, name: &str) -> S3Url {
        S3Url {
            bucket: self.bucket.clone(),
            key: format!("{}{name}", self.prefix()),
        }
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_and_key() {
        let u = S3Url::parse("s3://pets-data/features/part-0.parquet").unwrap();
        assert_eq!(u.bucket, "pets-data");
        assert_eq!(u.key, "features/part-0.parquet");
        assert_eq!(u.prefix(), "features/part-0.parquet/");
        assert_eq!(u.to_string(), "s3://pets-data/features/part-0.parquet");
        let root = S3Url::parse("s3://pets-data").unwrap();
        assert_eq!((root.key.as_str(), root.prefix().as_str()), ("", ""));
        assert_eq!(root.join("_SUCCESS").key, "_SUCCESS");
        let dir = S3Url::parse("s3://pets-data/runs/r1/").unwrap();
        assert_eq!(dir.join("results.csv").key, "runs/r1/results.csv");
    }

    #[test]
    fn local_paths_are_not_urls_and_bad_urls_say_why() {
        assert_eq!(S3Url::from_path(Path::new("out/run")).unwrap(), None);
        assert!(S3Url::from_path(Path::new("s3://b1b/k")).unwrap().is_some());
        for (url, why) in [
            ("s3:///key", "no bucket name"),
            ("s3://Pets/key", "not a valid bucket name"),
            ("s3://ab/key", "not a valid bucket name"),
            ("s3a://pets/key", "does not start with s3://"),
        ] {
            let err = S3Url::parse(url).unwrap_err().to_string();
            assert!(err.contains(url) && err.contains(why), "{url}: {err}");
        }
    }
}
