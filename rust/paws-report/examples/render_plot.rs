//! Renders the accuracy plot of the tests' realistic rows, for a person to look at
//! (`scripts/render-plot.sh`): what a test cannot judge (legibility, overlaps, colours).
//! The automatic checks of the PNG are in `tests/plot.rs`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;

fn main() {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("paws-accuracy.png"));
    if let Err(e) = paws_report::plot_accuracy(
        &path,
        &common::realistic_rows(),
        "SVMWithSGD: test accuracy by train split",
    ) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    println!("{}", path.display());
}
