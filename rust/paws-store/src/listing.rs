//! The files of an S3 "folder" and the local names they get when downloaded.
//!
//! Keys come from the server and from the user, so they are checked before they name
//! a local file: a listing may hold keys outside the prefix it was asked for (a
//! misbehaving S3-compatible store), the same key twice, or a last part that is not a
//! file name on disk (`..` would write beside the temporary folder, `.` onto it). Those
//! are a named error, never a panic from slicing a key or a file written elsewhere.

use std::collections::HashSet;

use crate::error::{Result, StoreError};
use crate::location::S3Url;
use crate::s3::Object;

/// The last part of a key ("runs/r1/results.csv" -> "results.csv").
pub fn last_part(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// Why `name` (the last part of a key) cannot be a local file name, if it cannot.
pub fn not_a_file_name(name: &str) -> Option<&'static str> {
    match name {
        "" => Some("it is empty"),
        "." | ".." => Some("'.' and '..' name folders"),
        _ if name.contains('\0') => Some("it holds a NUL character"),
        _ if name.contains('\\') => Some("it holds a backslash"),
        _ => None,
    }
}

/// The last part of `url`'s key as a local file name, or [`StoreError::BadKey`].
pub fn checked_name(url: &S3Url) -> Result<&str> {
    let name = last_part(&url.key);
    match not_a_file_name(name) {
        None => Ok(name),
        Some(why) => Err(StoreError::BadKey {
            url: url.to_string(),
            why: format!("its last part cannot name a local file: {why}"),
        }),
    }
}

/// The objects directly under `folder`'s prefix (not in its subfolders, not the folder
/// marker itself), each with its local file name, in the listing's order. A key outside
/// the prefix, a repeated key or a key whose last part cannot be a file name is an error
/// naming it.
pub fn files_under<'a>(
    folder: &S3Url,
    objects: &'a [Object],
) -> Result<Vec<(&'a Object, &'a str)>> {
    let prefix = folder.prefix();
    let mut seen = HashSet::new();
    let mut files = Vec::new();
    for object in objects {
        let Some(rest) = object.url.key.strip_prefix(prefix.as_str()) else {
            return Err(StoreError::BadKey {
                url: object.url.to_string(),
                why: format!("the listing of {folder} returned it, but it is not under {prefix:?}"),
            });
        };
        if rest.is_empty() || rest.contains('/') {
            continue;
        }
        let name = checked_name(&object.url)?;
        if !seen.insert(name) {
            return Err(StoreError::BadKey {
                url: object.url.to_string(),
                why: format!("the listing of {folder} returned it twice"),
            });
        }
        files.push((object, name));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(bucket: &str, keys: &[&str]) -> Vec<Object> {
        keys.iter()
            .map(|k| Object {
                url: S3Url {
                    bucket: bucket.into(),
                    key: (*k).into(),
                },
                size: 1,
            })
            .collect()
    }

    #[test]
    fn only_the_folders_own_files_with_their_names() {
        let folder = S3Url::parse("s3://pets/runs/r1").unwrap();
        let listed = objects(
            "pets",
            &[
                "runs/r1/",
                "runs/r1/a.parquet",
                "runs/r1/sub/b.parquet",
                "runs/r1/_SUCCESS",
            ],
        );
        let names: Vec<&str> = files_under(&folder, &listed)
            .unwrap()
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(names, ["a.parquet", "_SUCCESS"]);
    }

    #[test]
    fn keys_that_cannot_be_local_files_are_named() {
        let folder = S3Url::parse("s3://pets/in/").unwrap();
        for (keys, url, why) in [
            (&["in/.."][..], "s3://pets/in/..", "name folders"),
            (&["in/."][..], "s3://pets/in/.", "name folders"),
            (&["in/a\\b"][..], "s3://pets/in/a\\b", "backslash"),
            (&["in/a\0"][..], "s3://pets/in/a\0", "NUL"),
            (&["in/x", "in/x"][..], "s3://pets/in/x", "twice"),
            // Shorter than the prefix, and a prefix cut inside a multi-byte character:
            // these were slices of the key before, a panic.
            (&["i"][..], "s3://pets/i", "not under \"in/\""),
            (&["in\u{e9}/x"][..], "s3://pets/in\u{e9}/x", "not under"),
        ] {
            let e = files_under(&folder, &objects("pets", keys)).unwrap_err();
            let message = e.to_string();
            assert!(
                message.starts_with(url) && message.contains(why),
                "{keys:?}: {message}"
            );
        }
    }

    #[test]
    fn a_urls_last_part_is_checked_as_a_file_name() {
        let name = |u: &str| checked_name(&S3Url::parse(u).unwrap()).map(str::to_string);
        assert_eq!(name("s3://pets/runs/model.json").unwrap(), "model.json");
        assert!(name("s3://pets/runs/..").is_err());
        assert!(name("s3://pets/runs/.").is_err());
        assert!(name("s3://pets/runs/").is_err());
    }
}
