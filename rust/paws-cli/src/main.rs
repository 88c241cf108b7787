//! `paws`: the in-process engine on the command line.
//!
//! A thin shell over the library crates: argument parsing, logging, progress and exit
//! codes live here; every computation is in `paws-core`, `paws-vision` (feature
//! `extract`, on by default) and `paws-report`, which the Spark engine shares.
//!
//! Errors: a usage error (clap rejects the command line) exits 2, any other error (a
//! value that fails validation, data, I/O) exits 1; both print one line
//! `paws: error: <message>` on stderr (clap adds its usage lines after it).

mod commands;
mod logging;
mod storage;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match paws_args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // clap's message starts with "error: "; 2 is clap's usage-error code.
            eprint!("paws: {}", e.render());
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
        Err(e) => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    logging::init(cli.verbose);
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the whole chain: "reading features: X: wrong dimension ...".
            logging::error(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}
