//! Log lines go to stderr and, for commands that write an output folder, to a log file
//! there too, so a finished run keeps its phase timings beside its results.

use anyhow::Context;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

struct Tee {
    file: Option<Mutex<File>>,
}

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::stderr().write_all(buf)?;
        if let Some(f) = &self.file {
            f.lock().expect("log file lock").write_all(buf)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Info level by default, debug with `-v`; `RUST_LOG` overrides both.
pub fn init(verbose: bool, log_file: Option<&Path>) -> anyhow::Result<()> {
    let file = match log_file {
        Some(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            Some(Mutex::new(
                File::create(path).with_context(|| format!("creating {}", path.display()))?,
            ))
        }
        None => None,
    };
    let level = if verbose { "debug" } else { "info" };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_timestamp_millis()
        .format_target(false)
        .target(env_logger::Target::Pipe(Box::new(Tee { file })))
        .init();
    Ok(())
}
