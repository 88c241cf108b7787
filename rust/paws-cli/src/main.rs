//! `paws`: the in-process engine on the command line.
//!
//! A thin shell over the library crates: argument parsing, logging, progress and exit
//! codes live here; every computation is in `paws-core`, `paws-vision` and
//! `paws-report`, which the Spark engine shares.

mod commands;
mod logging;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = paws_args::Cli::parse();
    let log_file = cli.command.log_file();
    if let Err(e) = logging::init(cli.verbose, log_file.as_deref()) {
        eprintln!("paws: error: {e:#}");
        return ExitCode::from(2);
    }
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the whole chain: "reading X: X: wrong dimension ...".
            log::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}
