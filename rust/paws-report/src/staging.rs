//! All-or-nothing output folders: a run writes into a temporary sibling folder
//! (`DIR.tmp-<pid>`) and publishes it as `DIR` only once every file is written. A run
//! that fails leaves an existing `DIR` exactly as it was and no temporary folder.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{ReportError, Result};

/// A folder being written, to be published under its final name.
#[derive(Debug)]
pub struct StagedDir {
    target: PathBuf,
    temp: PathBuf,
    published: bool,
}

/// `DIR` with `suffix` appended to its last component: `out` → `out.tmp-42`.
pub fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir
        .file_name()
        .map(OsString::from)
        .unwrap_or_else(|| OsString::from("out"));
    name.push(suffix);
    dir.with_file_name(name)
}

/// Checks that `path` can be created: its parent exists and is a folder, and `path`
/// itself is not an existing file of the wrong kind (`want_dir`: a folder is expected).
pub fn check_output_path(path: &Path, want_dir: bool) -> Result<()> {
    let bad = |why: String| {
        ReportError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, why),
        )
    };
    if path.file_name().is_none() {
        return Err(bad("not a file or folder name".into()));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match fs::metadata(parent) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(bad(format!("{} is not a folder", parent.display()))),
        Err(_) => return Err(bad(format!("folder {} does not exist", parent.display()))),
    }
    match fs::metadata(path) {
        Ok(m) if want_dir && !m.is_dir() => Err(bad("it exists and is not a folder".into())),
        Ok(m) if !want_dir && m.is_dir() => Err(bad("it exists and is a folder".into())),
        _ => Ok(()),
    }
}

impl StagedDir {
    /// Creates the empty temporary folder `DIR.tmp-<pid>` next to `dir` (after
    /// [`check_output_path`]); creating it proves that the parent folder is writable.
    pub fn create(dir: &Path) -> Result<StagedDir> {
        check_output_path(dir, true)?;
        let temp = sibling(dir, &format!(".tmp-{}", std::process::id()));
        if temp.exists() {
            // Left by a killed run that had our pid: it is ours to replace.
            fs::remove_dir_all(&temp).map_err(|e| ReportError::io(&temp, e))?;
        }
        fs::create_dir(&temp).map_err(|e| ReportError::io(&temp, e))?;
        Ok(StagedDir {
            target: dir.to_path_buf(),
            temp,
            published: false,
        })
    }

    /// The temporary folder to write into.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// The folder the run is published as.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Swaps the temporary folder in as `DIR`: renames an existing `DIR` aside to
    /// `DIR.old-<pid>`, renames the temporary folder to `DIR`, then deletes the old one.
    ///
    /// Each rename is atomic, the pair is not. If the process dies between the two
    /// renames, `DIR` is missing while the previous run sits complete in `DIR.old-<pid>`
    /// and the new one complete in `DIR.tmp-<pid>`: rename either back to `DIR` by hand.
    /// If it dies after the second rename, `DIR` is the new run and `DIR.old-<pid>` is
    /// an obsolete copy that can be deleted.
    pub fn publish(mut self) -> Result<()> {
        let old = sibling(&self.target, &format!(".old-{}", std::process::id()));
        let had_old = fs::symlink_metadata(&self.target).is_ok();
        if had_old {
            if fs::symlink_metadata(&old).is_ok() {
                fs::remove_dir_all(&old).map_err(|e| ReportError::io(&old, e))?;
            }
            fs::rename(&self.target, &old).map_err(|e| ReportError::io(&self.target, e))?;
        }
        if let Err(e) = fs::rename(&self.temp, &self.target) {
            if had_old {
                // Put the previous run back; the new one is discarded on drop.
                let _ = fs::rename(&old, &self.target);
            }
            return Err(ReportError::io(&self.target, e));
        }
        self.published = true;
        if had_old {
            fs::remove_dir_all(&old).map_err(|e| ReportError::io(&old, e))?;
        }
        Ok(())
    }
}

impl Drop for StagedDir {
    /// An unpublished temporary folder is deleted.
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_dir_all(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_swaps_and_drop_discards() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("a.txt"), "old").unwrap();

        let staged = StagedDir::create(&dir).unwrap();
        fs::write(staged.path().join("a.txt"), "new").unwrap();
        drop(staged);
        assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "old");
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);

        let staged = StagedDir::create(&dir).unwrap();
        fs::write(staged.path().join("b.txt"), "new").unwrap();
        staged.publish().unwrap();
        assert!(!dir.join("a.txt").exists());
        assert_eq!(fs::read_to_string(dir.join("b.txt")).unwrap(), "new");
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
    }

    #[test]
    fn bad_output_paths_fail_before_anything_is_written() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("f");
        fs::write(&file, "x").unwrap();
        for (path, why) in [
            (root.path().join("missing/out"), "does not exist"),
            (file.join("out"), "is not a folder"),
            (file.clone(), "not a folder"),
        ] {
            let e = StagedDir::create(&path).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        }
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
    }
}
