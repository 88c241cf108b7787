//! `paws experiment`: the breed experiment in process, with its table, models and plot.

use crate::args::{ExperimentArgs, ModelKind, Scale, Updater};
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use paws_core::experiment::{self, ComparisonSpec, ExperimentConfig};
use paws_core::gradient::LossKind;
use paws_core::sgd::SgdParams;
use paws_core::updater::UpdaterKind;
use std::time::Instant;

pub const ENGINE: &str = "paws-cli";

/// With no data or class arguments: the README's main job on the embedded sample.
fn default_comparisons() -> Vec<ComparisonSpec> {
    vec![
        ComparisonSpec::Versus("Abyssinian".into(), vec!["Bengal".into()]),
        ComparisonSpec::VersusAll("american_bulldog".into()),
    ]
}

fn config(args: &ExperimentArgs) -> Result<ExperimentConfig> {
    let comparisons = if args.all_pairs {
        vec![ComparisonSpec::AllPairs]
    } else {
        match (&args.class, args.vs.as_slice()) {
            (None, []) if args.features.is_none() => default_comparisons(),
            (None, _) => bail!("--class is required (or --all-pairs)"),
            (Some(_), []) => bail!("--vs is required with --class: a class list, or all"),
            (Some(c), [all]) if all.eq_ignore_ascii_case("all") => {
                vec![ComparisonSpec::VersusAll(c.clone())]
            }
            (Some(c), vs) => vec![ComparisonSpec::Versus(c.clone(), vs.to_vec())],
        }
    };
    Ok(ExperimentConfig {
        comparisons,
        splits: experiment::parse_splits(&args.splits)?,
        sgd: SgdParams {
            loss: match args.model {
                ModelKind::Svm => LossKind::Hinge,
                ModelKind::Logistic => LossKind::Logistic,
            },
            updater: match args.updater {
                Updater::L2 => UpdaterKind::L2,
                Updater::L1 => UpdaterKind::L1,
                Updater::None => UpdaterKind::Simple,
            },
            step_size: args.step_size,
            iterations: args.iterations,
            reg_param: args.reg_param,
            mini_batch_fraction: args.mini_batch_fraction,
            convergence_tol: args.convergence_tol,
        },
        intercept: args.intercept,
        standardize: args.scale == Scale::Standard,
        class_weighting: args.class_weighting,
        seed: args.seed,
    })
}

pub fn run(args: ExperimentArgs) -> Result<()> {
    let total = Instant::now();
    let cfg = config(&args)?;
    cfg.sgd.validate()?;
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
