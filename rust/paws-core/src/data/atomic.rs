//! Atomic file replacement: readers see the old file or the complete new one, never a
//! half-written file. The bytes go to a temporary file in the destination's directory
//! (same file system, so the rename is atomic), are flushed to disk, and the temporary
//! file is renamed over the destination. On any error the temporary file is removed.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically. Errors name `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> crate::Result<()> {
    let io_err = |e| crate::PawsError::io(path, e);
    write_atomic_with(path, io_err, |temp| {
        let mut file = OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(temp)
            .map_err(io_err)?;
        file.write_all(bytes).map_err(io_err)
    })
}

/// Atomically creates `path` with a writer that writes a path itself (Parquet's writer
/// on a file).
///
/// `write` is given a temporary path in the same directory as `path`, ending with the
/// same extension (`.png` for `plot.png`; writers that pick the format from the
/// extension keep working). The temporary file already exists (empty) when `write` is
/// called; `write` may overwrite or truncate it. When `write` succeeds the file is
/// flushed to disk and renamed to `path`; when it fails (or panics) the temporary file
/// is removed and `path` is left untouched. `io_err` turns this function's own I/O
/// failures into the caller's error type.
pub fn write_atomic_with<E>(
    path: &Path,
    io_err: impl Fn(io::Error) -> E,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let temp = TempFile::reserve(path).map_err(&io_err)?;
    write(&temp.path)?;
    // The data must be on disk before the rename makes it visible under `path`.
    OpenOptions::new()
        .write(true)
        .open(&temp.path)
        .and_then(|file| file.sync_all())
        .map_err(&io_err)?;
    fs::rename(&temp.path, path).map_err(&io_err)?;
    temp.disarm();
    sync_dir(&directory_of(path));
    Ok(())
}

/// A reserved temporary file, removed on drop unless disarmed.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    /// Creates a new, empty, uniquely named file next to `dest`.
    fn reserve(dest: &Path) -> io::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = dest
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
        let dir = directory_of(dest);
        let extension = dest
            .extension()
            .map(|ext| {
                let mut dotted = OsString::from(".");
                dotted.push(ext);
                dotted
            })
            .unwrap_or_default();
        let mut attempts = 0;
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut temp_name = OsString::from(".");
            temp_name.push(name);
            temp_name.push(format!(".{}-{n}.tmp", std::process::id()));
            temp_name.push(&extension);
            let path = dir.join(temp_name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(_) => return Ok(TempFile { path, armed: true }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 100 => {
                    attempts += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Makes the rename durable. Best effort: only Unix can open and sync a directory.
fn sync_dir(dir: &Path) {
    if cfg!(unix) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The number of entries of `dir`: 1 when only the destination is there.
    fn entry_count(dir: &Path) -> usize {
        fs::read_dir(dir).unwrap().count()
    }

    #[test]
    fn writer_gets_a_temp_path_with_the_same_extension_and_it_is_removed_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("features.parquet");
        fs::write(&path, b"old").unwrap();
        let err = write_atomic_with(
            &path,
            |e| e,
            |temp| {
                assert_eq!(temp.parent(), path.parent());
                assert_eq!(temp.extension().unwrap(), "parquet");
                assert!(temp.exists());
                fs::write(temp, b"half").unwrap();
                Err(io::Error::other("boom"))
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "boom");
        assert_eq!(fs::read(&path).unwrap(), b"old", "destination untouched");
        assert_eq!(entry_count(dir.path()), 1, "temp file removed");

        write_atomic_with(&path, |e| e, |temp| fs::write(temp, b"new")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(entry_count(dir.path()), 1);
    }
}
