//! `paws experiment`: the breed experiment in process, with its table, models and plot.

use crate::args::ExperimentArgs;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use paws_core::experiment;
use std::time::Instant;

pub const ENGINE: &str = "paws-cli";

pub fn run(args: ExperimentArgs) -> Result<()> {
    let total = Instant::now();
    let cfg = args.config()?;
    let path = args
        .features
        .clone()
        .unwrap_or_else(super::embedded_features);
    let data = super::load_features(&path, &args.extractor)?;

    let n_models = experiment::comparisons(&data, &cfg)?.len() * cfg.splits.len();
    log::info!(
        "experiment: {} models ({} {}, {} iterations, step {}, regParam {}, scale {:?}, intercept {}, class weighting {})",
        n_models,
        cfg.sgd.loss.name(),
        format!("{:?}", cfg.sgd.updater).to_lowercase(),
        cfg.sgd.iterations,
        cfg.sgd.step_size,
        cfg.sgd.reg_param,
        args.scale,
        cfg.intercept,
        cfg.class_weighting
    );
    let bar = ProgressBar::new(n_models as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} models, {elapsed} (eta {eta})")
            .expect("template"),
    );
    let out = experiment::run(&data, &cfg, ENGINE, &|done, _| {
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
    std::fs::create_dir_all(dir.join("models"))
        .with_context(|| format!("creating {}", dir.display()))?;
    paws_report::write_tables(dir, &out.rows)
        .with_context(|| format!("writing tables to {}", dir.display()))?;
    let plot = dir.join("accuracy.png");
    let title = format!("paws {} on {}", cfg.sgd.loss.name(), data.extractor().model);
    paws_report::plot_accuracy(&plot, &out.rows, &title)
        .with_context(|| format!("writing {}", plot.display()))?;
    let mut model_paths = Vec::new();
    for m in &out.best {
        let p = dir
            .join("models")
            .join(format!("{}_vs_{}.json", m.positive_class, m.negative_class));
        m.save(&p)
            .with_context(|| format!("writing {}", p.display()))?;
        model_paths.push(p);
    }

    println!("{}", paws_report::to_terminal(&out.rows));
    let flagged = out.rows.iter().filter(|r| !r.flag.is_empty()).count();
    if flagged > 0 {
        println!(
            "{flagged} of {} models predict a single class: their accuracy is only the majority share (see flag, majority_pct).",
            out.rows.len()
        );
    }
    println!("table: {}", dir.join("results.csv").display());
    println!("plot:  {}", plot.display());
    for p in &model_paths {
        println!("best model: {}", p.display());
    }
    log::info!("done in {:.3} s", total.elapsed().as_secs_f64());
    Ok(())
}
