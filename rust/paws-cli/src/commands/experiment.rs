//! `paws experiment`: the breed experiment in process, with its table, models and plot.
//!
//! A run is all or nothing: everything is checked before training (arguments, output
//! path, classes, training rows at every split), the run is written into a staged
//! folder `DIR.tmp-<pid>` next to `DIR`, and only a complete run replaces `DIR`. A
//! failed run leaves `DIR` as it was and its log in `DIR.failed.log`. An `s3://` output
//! goes through the same staging in a temporary folder and is uploaded when complete,
//! `_SUCCESS` last (`crate::storage`).

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use paws_args::ExperimentArgs;
use paws_core::experiment::{self, CLI_ENGINE};
use paws_report::staging::{sibling, StagedDir};
use std::path::Path;
use std::time::Instant;

/// The log file inside the output folder.
pub const LOG_FILE: &str = "paws.log";

pub fn run(args: ExperimentArgs) -> Result<()> {
    let total = Instant::now();
    let cfg = args.config()?;
    // An s3:// output is written locally first (same staging), then uploaded.
    let output = crate::storage::Output::new(&args.output)?;
    let dir = output.local();
    let staged = StagedDir::create(dir)?;
    let failed_log = sibling(dir, ".failed.log");
    logging_attach(staged.path(), &failed_log)?;
    match write_run(&args, cfg, &staged) {
        Ok(report) => {
            staged
                .publish()
                .with_context(|| format!("publishing the run as {}", dir.display()))?;
            output.publish_dir()?;
            // A failed run's log is obsolete once a run succeeds.
            let _ = std::fs::remove_file(&failed_log);
            println!("{}", report.table);
            if let Some(note) = report.flagged_note() {
                println!("{note}");
            }
            println!("table: {}", output.shown(paws_report::CSV_FILE));
            println!("plot:  {}", output.shown(paws_report::PLOT_FILE));
            for file in report.model_files() {
                println!("best model: {}", output.shown(file));
            }
            log::info!("done in {:.3} s", total.elapsed().as_secs_f64());
            Ok(())
        }
        Err(e) => {
            // Before `staged` is dropped (and deleted with the log in it).
            crate::logging::keep_failed();
            Err(e)
        }
    }
}

fn logging_attach(staged: &Path, failed_log: &Path) -> Result<()> {
    let path = staged.join(LOG_FILE);
    crate::logging::attach(&path, failed_log)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// Loads, trains and writes the whole run into the staged folder.
fn write_run(
    args: &ExperimentArgs,
    cfg: experiment::ExperimentConfig,
    staged: &StagedDir,
) -> Result<paws_report::Report> {
    let path = args
        .features
        .clone()
        .unwrap_or_else(super::embedded_features);
    let input = crate::storage::input(&path)?;
    let data = super::load_features(&input.path, &args.extractor)?;

    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} models, {elapsed} (eta {eta})")
            .expect("template"),
    );
    let out = experiment::run(&data, &cfg, CLI_ENGINE, &|done, models| {
        bar.set_length(models as u64);
        bar.set_position(done as u64)
    })?;
    bar.finish_and_clear();
    log::info!(
        "phases: split {:.3} s, train {:.3} s, evaluate {:.3} s",
        out.times.split.as_secs_f64(),
        out.times.train.as_secs_f64(),
        out.times.evaluate.as_secs_f64()
    );

    let title = experiment::title(&cfg, data.extractor());
    let report = paws_report::write_report(staged.path(), &out.rows, &out.best, &title)
        .context("writing the report")?;
    Ok(report)
}
