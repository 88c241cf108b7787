//! The accuracy table as CSV, JSON, Markdown and an aligned plain-text table.

use std::path::Path;

use paws_core::experiment::results::ResultRow;

use crate::atomic::write_atomic;
use crate::error::{ReportError, Result};

/// CSV and JSON column names: every field of [`ResultRow`] in struct order. The first
/// nine are `paws_core::experiment::results::PUBLISHED_COLUMNS`.
pub const COLUMNS: [&str; 17] = [
    "class1",
    "class2",
    "split",
    "iterations",
    "num_model",
    "predict_pct",
    "nb_train",
    "nb_test",
    "nb_correct",
    "precision",
    "recall",
    "f1",
    "majority_pct",
    "flag",
    "iterations_run",
    "engine",
    "seconds",
];

/// File names written by [`write_tables`].
pub const CSV_FILE: &str = "results.csv";
pub const JSON_FILE: &str = "results.json";
pub const MARKDOWN_FILE: &str = "results.md";

/// Writes `results.csv`, `results.json` and `results.md` into `out_dir` (created if
/// missing), each atomically.
pub fn write_tables(out_dir: &Path, rows: &[ResultRow]) -> Result<()> {
    std::fs::create_dir_all(out_dir).map_err(|e| ReportError::io(out_dir, e))?;
    write_atomic(&out_dir.join(CSV_FILE), to_csv(rows).as_bytes())?;
    write_atomic(&out_dir.join(JSON_FILE), to_json(rows).as_bytes())?;
    write_atomic(&out_dir.join(MARKDOWN_FILE), to_markdown(rows).as_bytes())?;
    Ok(())
}

/// One row's values, formatted, in [`COLUMNS`] order.
///
/// The exhaustive destructuring makes adding a field to `ResultRow` a compile error
/// here, so the columns cannot silently fall out of step with the struct.
fn fields(row: &ResultRow) -> [String; 17] {
    let ResultRow {
        class1,
        class2,
        split,
        iterations,
        num_model,
        predict_pct,
        nb_train,
        nb_test,
        nb_correct,
        precision,
        recall,
        f1,
        majority_pct,
        flag,
        iterations_run,
        engine,
        seconds,
    } = row;
    [
        class1.clone(),
        class2.clone(),
        fmt_split(*split),
        iterations.to_string(),
        num_model.to_string(),
        format!("{predict_pct:.2}"),
        nb_train.to_string(),
        nb_test.to_string(),
        nb_correct.to_string(),
        format!("{precision:.4}"),
        format!("{recall:.4}"),
        format!("{f1:.4}"),
        format!("{majority_pct:.2}"),
        flag.clone(),
        iterations_run.to_string(),
        engine.clone(),
        format!("{seconds:.3}"),
    ]
}

/// A split as the published file prints it: `0.3`, `0.25`, `1.0`; float noise such as
/// `0.30000000000000004` is rounded away.
fn fmt_split(split: f64) -> String {
    if !split.is_finite() {
        return split.to_string();
    }
    let mut s = format!("{split:.6}");
    while s.ends_with('0') && !s.ends_with(".0") {
        s.pop();
    }
    s
}

// ---------------------------------------------------------------------------------
// CSV

/// The rows as CSV (RFC 4180 quoting, `\n` line ends), with a header of [`COLUMNS`].
pub fn to_csv(rows: &[ResultRow]) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for row in rows {
        let line: Vec<String> = fields(row).iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

// ---------------------------------------------------------------------------------
// JSON

/// The rows as a pretty-printed JSON array of objects (field names as in [`COLUMNS`]).
pub fn to_json(rows: &[ResultRow]) -> String {
    let mut json =
        serde_json::to_string_pretty(rows).expect("ResultRow has only strings and numbers");
    json.push('\n');
    json
}

// ---------------------------------------------------------------------------------
// Markdown

/// Header, right alignment, and source column (index into [`fields`]) of each column
/// of the Markdown table.
const MD_COLUMNS: [(&str, bool, usize); 17] = [
    ("class1", false, 0),
    ("class2", false, 1),
    ("split", true, 2),
    ("iterations", true, 3),
    ("model", true, 4),
    ("accuracy %", true, 5),
    ("majority %", true, 12),
    ("train", true, 6),
    ("test", true, 7),
    ("correct", true, 8),
    ("precision", true, 9),
    ("recall", true, 10),
    ("f1", true, 11),
    ("iterations run", true, 14),
    ("engine", false, 15),
    ("seconds", true, 16),
    ("flag", false, 13),
];

const FLAG_INDEX: usize = 13;

/// The rows as a GitHub Markdown table: a header line, an alignment line and one line
/// per row. A flagged row shows `⚠ **<flag>**` in its last column.
pub fn to_markdown(rows: &[ResultRow]) -> String {
    let mut out = String::new();
    let header: Vec<&str> = MD_COLUMNS.iter().map(|(name, _, _)| *name).collect();
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    let align: Vec<&str> = MD_COLUMNS
        .iter()
        .map(|(_, right, _)| if *right { "---:" } else { "---" })
        .collect();
    out.push_str(&format!("|{}|\n", align.join("|")));
    for row in rows {
        let values = fields(row);
        let cells: Vec<String> = MD_COLUMNS
            .iter()
            .map(|&(_, _, i)| {
                let cell = md_escape(&values[i]);
                if i == FLAG_INDEX && !cell.is_empty() {
                    format!("⚠ **{cell}**")
                } else {
                    cell
                }
            })
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// Keeps a value inside its cell: no line breaks, no unescaped pipes or emphasis.
fn md_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '\\' | '|' | '*' | '`' | '<' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// Terminal

/// Columns of the terminal table (a subset: precision, recall and engine are left to
/// the files).
const TERMINAL_COLUMNS: [(&str, bool, usize); 14] = [
    ("class1", false, 0),
    ("class2", false, 1),
    ("split", true, 2),
    ("iter", true, 3),
    ("model", true, 4),
    ("acc %", true, 5),
    ("majority %", true, 12),
    ("train", true, 6),
    ("test", true, 7),
    ("correct", true, 8),
    ("f1", true, 11),
    ("iter run", true, 14),
    ("seconds", true, 16),
    ("flag", false, 13),
];

/// The rows as an aligned plain-text table for the log: header, a dashed rule, one
/// line per row; numbers right-aligned, text left-aligned, no trailing spaces.
pub fn to_terminal(rows: &[ResultRow]) -> String {
    let header: Vec<String> = TERMINAL_COLUMNS
        .iter()
        .map(|(name, _, _)| name.to_string())
        .collect();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let values = fields(row);
            TERMINAL_COLUMNS
                .iter()
                .map(|&(_, _, i)| values[i].replace(['\r', '\n'], " "))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = (0..TERMINAL_COLUMNS.len())
        .map(|c| {
            std::iter::once(&header)
                .chain(&body)
                .map(|line| line[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();

    let render = |line: &[String]| -> String {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .zip(&TERMINAL_COLUMNS)
            .map(|((cell, &width), &(_, right, _))| {
                let pad = " ".repeat(width - cell.chars().count());
                if right {
                    format!("{pad}{cell}")
                } else {
                    format!("{cell}{pad}")
                }
            })
            .collect();
        let mut text = cells.join("  ");
        text.truncate(text.trim_end().len());
        text.push('\n');
        text
    };

    let mut out = render(&header);
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    out.push_str(&render(&rule));
    for line in &body {
        out.push_str(&render(line));
    }
    out
}
