//! Log lines go to stderr and, once a command has a place for it, to a log file too:
//! `paws experiment` logs into its staged output folder (published as `DIR/paws.log`
//! with the results), and a failed run's log is moved beside the output as
//! `DIR.failed.log`, never over the previous run's log.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The open log file, where it is, and where it goes if the run fails.
struct LogFile {
    file: File,
    path: PathBuf,
    failed_path: PathBuf,
}

static LOG_FILE: Mutex<Option<LogFile>> = Mutex::new(None);

fn with_file(f: impl FnOnce(&mut LogFile)) {
    if let Some(log) = LOG_FILE.lock().expect("log file lock").as_mut() {
        f(log)
    }
}

struct Tee;

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::stderr().write_all(buf)?;
        with_file(|log| {
            // A log line that cannot be copied to the file is still on stderr.
            let _ = log.file.write_all(buf);
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Info level by default, debug with `-v`; `RUST_LOG` overrides both.
pub fn init(verbose: bool) {
    let level = if verbose { "debug" } else { "info" };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_timestamp_millis()
        .format_target(false)
        .target(env_logger::Target::Pipe(Box::new(Tee)))
        .init();
}

/// Copies every later log line to a new file at `path`; if the run fails,
/// [`keep_failed`] moves it to `failed_path`.
pub fn attach(path: &Path, failed_path: &Path) -> std::io::Result<()> {
    let file = File::create(path)?;
    *LOG_FILE.lock().expect("log file lock") = Some(LogFile {
        file,
        path: path.to_path_buf(),
        failed_path: failed_path.to_path_buf(),
    });
    Ok(())
}

/// The log file moved aside, where [`error`] appends: called on failure before the
/// staged folder that holds it is deleted. (Renaming an open file keeps its handle.)
pub fn keep_failed() {
    with_file(|log| {
        if std::fs::rename(&log.path, &log.failed_path).is_ok() {
            log.path = log.failed_path.clone();
        }
    });
}

/// The one error line of a failed command: `paws: error: <message>` on stderr, and in
/// the log file if there is one.
pub fn error(message: &str) {
    let line = format!("paws: error: {message}\n");
    eprint!("{line}");
    with_file(|log| {
        let _ = log.file.write_all(line.as_bytes());
    });
}
