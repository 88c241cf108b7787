//! `paws experiment`: the breed experiment in process, with its table, models and plot.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use paws_args::ExperimentArgs;
use paws_core::experiment::{self, CLI_ENGINE};
use std::time::Instant;

pub fn run(args: ExperimentArgs) -> Result<()> {
    let total = Instant::now();
    let cfg = args.config()?;
    let path = args
        .features
        .clone()
        .unwrap_or_else(super::embedded_features);
    let data = super::load_features(&path, &args.extractor)?;

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

    let dir = &args.output;
    let title = experiment::title(&cfg, data.extractor());
    let report = paws_report::write_report(dir, &out.rows, &out.best, &title)
        .with_context(|| format!("writing the report to {}", dir.display()))?;

    println!("{}", report.table);
    if let Some(note) = report.flagged_note() {
        println!("{note}");
    }
    println!("table: {}", dir.join(paws_report::CSV_FILE).display());
    println!("plot:  {}", dir.join(paws_report::PLOT_FILE).display());
    for file in report.model_files() {
        println!("best model: {}", dir.join(file).display());
    }
    log::info!("done in {:.3} s", total.elapsed().as_secs_f64());
    Ok(())
}
