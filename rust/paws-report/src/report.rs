//! The output folder of an experiment run, as both engines write it: the tables
//! (`results.csv`, `.json`, `.md`), the plot (`accuracy.png`) and the best model of
//! each comparison (`models/<class1>_vs_<class2>.json`). These names and contents are
//! published: scripts and the Spark job read them.

use std::path::Path;

use paws_core::experiment::results::ResultRow;
use paws_core::experiment::saved_model::SavedModel;

use crate::error::{ReportError, Result};
use crate::plot::plot_accuracy;
use crate::table::{to_terminal, write_tables, CSV_FILE, JSON_FILE, MARKDOWN_FILE};

/// The plot's file name.
pub const PLOT_FILE: &str = "accuracy.png";
/// The folder of the saved models.
pub const MODELS_DIR: &str = "models";

/// A saved model's path relative to the output folder.
pub fn model_file(model: &SavedModel) -> String {
    format!(
        "{MODELS_DIR}/{}_vs_{}.json",
        model.positive_class, model.negative_class
    )
}

/// What [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Files written, relative to the output folder: the tables, the plot, the models.
    pub files: Vec<String>,
    /// The plain-text table for the terminal or the log.
    pub table: String,
    /// Models that answer a single class for every test row.
    pub flagged: usize,
    /// Models in the table.
    pub models: usize,
}

impl Report {
    /// The line that warns about flagged models, if any.
    pub fn flagged_note(&self) -> Option<String> {
        (self.flagged > 0).then(|| {
            format!(
                "{} of {} models predict a single class: their accuracy is only the majority share (see flag, majority_pct).",
                self.flagged, self.models
            )
        })
    }

    /// The saved models among [`Report::files`].
    pub fn model_files(&self) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .map(String::as_str)
            .filter(|f| f.starts_with(MODELS_DIR))
    }
}

/// Writes the output folder `dir` (created if missing): tables, plot and models, each
/// file atomically.
pub fn write_report(
    dir: &Path,
    rows: &[ResultRow],
    best: &[SavedModel],
    title: &str,
) -> Result<Report> {
    let models_dir = dir.join(MODELS_DIR);
    std::fs::create_dir_all(&models_dir).map_err(|e| ReportError::io(&models_dir, e))?;
    write_tables(dir, rows)?;
    plot_accuracy(&dir.join(PLOT_FILE), rows, title)?;
    let mut files: Vec<String> = [CSV_FILE, JSON_FILE, MARKDOWN_FILE, PLOT_FILE]
        .map(String::from)
        .to_vec();
    for model in best {
        let name = model_file(model);
        model.save(&dir.join(&name))?;
        files.push(name);
    }
    Ok(Report {
        files,
        table: to_terminal(rows),
        flagged: rows.iter().filter(|r| !r.flag.is_empty()).count(),
        models: rows.len(),
    })
}
