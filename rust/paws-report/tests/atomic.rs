use std::fs;
use std::io;

use paws_report::{write_atomic, write_atomic_with, ReportError};

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn replaces_the_file_and_leaves_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.txt");
    write_atomic(&path, b"first").unwrap();
    write_atomic(&path, b"second").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"second");
    assert_eq!(entries(dir.path()), ["a.txt"]);
}

#[test]
fn closure_gets_a_temp_path_with_the_same_extension_and_is_cleaned_up_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plot.png");
    fs::write(&path, b"old").unwrap();
    let err = write_atomic_with(&path, |temp| {
        assert_eq!(temp.parent(), path.parent());
        assert_eq!(temp.extension().unwrap(), "png");
        assert!(temp.exists());
        fs::write(temp, b"half").unwrap();
        Err(ReportError::Io {
            path: path.clone(),
            cause: io::Error::other("boom"),
        })
    })
    .unwrap_err();
    assert!(err.to_string().contains("boom"));
    assert_eq!(fs::read(&path).unwrap(), b"old", "destination untouched");
    assert_eq!(entries(dir.path()), ["plot.png"], "temp file removed");

    write_atomic_with(&path, |temp| {
        fs::write(temp, b"new").map_err(|e| ReportError::Io {
            path: temp.to_path_buf(),
            cause: e,
        })
    })
    .unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"new");
    assert_eq!(entries(dir.path()), ["plot.png"]);
}

#[test]
fn rename_failure_cleans_up_and_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    // A non-empty directory in the way: the rename fails.
    let path = dir.path().join("results.csv");
    fs::create_dir(&path).unwrap();
    fs::write(path.join("inside"), b"x").unwrap();
    let err = write_atomic(&path, b"data").unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert_eq!(entries(dir.path()), ["results.csv"]);
}

#[test]
fn missing_directory_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("a.json");
    let err = write_atomic(&path, b"{}").unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}
