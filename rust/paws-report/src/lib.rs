//! paws-report: the accuracy table (CSV, JSON, Markdown, and a plain-text table for
//! the log) and the accuracy-against-split plot, all written atomically.
//!
//! - [`table`] has [`to_csv`], [`to_json`], [`to_markdown`], [`to_terminal`] and
//!   [`write_tables`];
//! - [`plot`] has [`plot_accuracy`];
//! - [`heatmap`] has [`plot_confusion`], the breed predictor's confusion matrix;
//! - [`breeds`] has [`write_breed_training`], the breed predictor's model and confusion
//!   files;
//! - [`report`] has [`write_report`], the whole output folder of an experiment run;
//! - [`staging`] has [`staging::StagedDir`], all-or-nothing output folders;
//! - [`atomic`] has [`write_atomic`];
//! - [`error`] has [`ReportError`], whose messages name the file concerned.

pub mod atomic;
pub mod breeds;
pub mod error;
pub mod heatmap;
pub mod plot;
pub mod report;
pub mod staging;
pub mod table;
mod text;

pub use atomic::write_atomic;
pub use breeds::{breed_files, training_summary, write_breed_training};
pub use error::{ReportError, Result};
pub use heatmap::plot_confusion;
pub use plot::{plot_accuracy, PLOT_HEIGHT, PLOT_WIDTH};
pub use report::{model_file, write_report, Report, MODELS_DIR, PLOT_FILE};
pub use table::{
    to_csv, to_json, to_markdown, to_terminal, write_tables, COLUMNS, CSV_FILE, JSON_FILE,
    MARKDOWN_FILE,
};
