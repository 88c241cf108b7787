mod common;

use std::fs;

use common::{realistic_rows, row};
use paws_core::experiment::results::{ResultRow, PUBLISHED_COLUMNS};
use paws_report::{to_csv, to_json, to_markdown, to_terminal, write_tables, COLUMNS};

/// Splits one CSV line into fields (RFC 4180; the tests' lines have no line breaks).
fn parse_csv_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) => quoted = true,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    assert!(!quoted, "unterminated quote in {line:?}");
    fields
}

#[test]
fn csv_header_starts_with_the_published_columns() {
    let csv = to_csv(&realistic_rows());
    let header = parse_csv_line(csv.lines().next().unwrap());
    assert_eq!(&header[..9], &PUBLISHED_COLUMNS[..]);
    assert_eq!(header, COLUMNS);
}

#[test]
fn columns_are_exactly_the_struct_fields() {
    let json: serde_json::Value = serde_json::to_value(row("a", "b", 0.3, 1, 90.0)).unwrap();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let mut columns = COLUMNS.to_vec();
    keys.sort_unstable();
    columns.sort_unstable();
    assert_eq!(keys, columns);
}

#[test]
fn csv_parses_back_with_quoting() {
    let mut rows = realistic_rows();
    rows[0].class1 = "Bulldog, American".to_string();
    rows[1].class2 = "the \"Birman\"".to_string();
    rows[2].flag = "predicts only class 0, always".to_string();
    let csv = to_csv(&rows);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), rows.len() + 1);
    assert!(csv.ends_with('\n'));
    for line in &lines {
        assert_eq!(parse_csv_line(line).len(), COLUMNS.len(), "{line}");
    }
    assert!(lines[1].starts_with("\"Bulldog, American\","));
    let second = parse_csv_line(lines[2]);
    assert_eq!(second[1], "the \"Birman\"");
    assert_eq!(
        parse_csv_line(lines[3])[13],
        "predicts only class 0, always"
    );
}

#[test]
fn csv_number_formats_follow_the_published_file() {
    let mut r = row("Ragdoll", "Birman", 0.1 + 0.2, 3, 87.666666);
    r.predict_pct = 100.0;
    let csv = to_csv(&[r]);
    let fields = parse_csv_line(csv.lines().nth(1).unwrap());
    assert_eq!(fields[2], "0.3");
    assert_eq!(fields[5], "100.00");
    assert_eq!(fields[9], "0.9123");
    assert_eq!(fields[10], "0.8000");
    assert_eq!(fields[11], "0.8525");
    assert_eq!(fields[12], "50.50");
    assert_eq!(fields[16], "1.235");

    let published = fs::read_to_string("/work/shared/reference/published-svmwithsgd-results.csv");
    if let Ok(published) = published {
        // A published line reproduces exactly in the first nine columns.
        let line = published.lines().nth(1).unwrap();
        let f = parse_csv_line(line);
        let r = ResultRow {
            class1: f[0].clone(),
            class2: f[1].clone(),
            split: f[2].parse().unwrap(),
            iterations: f[3].parse().unwrap(),
            num_model: f[4].parse().unwrap(),
            predict_pct: f[5].parse().unwrap(),
            nb_train: f[6].parse().unwrap(),
            nb_test: f[7].parse().unwrap(),
            nb_correct: f[8].parse().unwrap(),
            ..row("x", "y", 0.5, 1, 0.0)
        };
        let ours = to_csv(&[r]);
        let ours = ours.lines().nth(1).unwrap();
        assert!(ours.starts_with(&format!("{line},")), "{ours} vs {line}");
    }
}

#[test]
fn json_round_trips() {
    let rows = realistic_rows();
    let json = to_json(&rows);
    let back: Vec<ResultRow> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, rows);
    assert!(json.trim_start().starts_with('['));
    assert!(json.contains("\n  {"), "pretty-printed");
}

#[test]
fn markdown_has_one_line_per_row_plus_two() {
    let mut rows = realistic_rows();
    rows[3].class1 = "pipe|in\nname".to_string();
    let md = to_markdown(&rows);
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines.len(), rows.len() + 2);
    let cells = |line: &str| line.replace("\\|", "").matches('|').count();
    for line in &lines {
        assert!(line.starts_with('|') && line.ends_with('|'), "{line}");
        assert_eq!(cells(line), cells(lines[0]), "{line}");
    }
    let flagged: Vec<&&str> = lines.iter().filter(|l| l.contains('⚠')).collect();
    assert_eq!(flagged.len(), 1);
    assert!(flagged[0].contains("predicts only class 0"));
}

#[test]
fn terminal_table_is_aligned() {
    let rows = realistic_rows();
    let text = to_terminal(&rows);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), rows.len() + 2);
    assert!(lines[1].starts_with("---"));
    assert!(lines.iter().all(|l| l == &l.trim_end()));
    // Right-aligned numeric columns end at the same character position.
    let end_of = |line: &str, needle: &str| line.find(needle).map(|i| i + needle.len());
    let header_end = end_of(lines[0], "acc %").unwrap();
    assert_eq!(end_of(lines[2], "97.20"), Some(header_end));
    assert_eq!(end_of(lines[3], "50.30"), Some(header_end));
    assert!(lines[3].ends_with("predicts only class 0"));
}

#[test]
fn write_tables_writes_three_files_and_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let rows = realistic_rows();
    write_tables(&out, &rows).unwrap();
    // Overwriting is atomic too.
    write_tables(&out, &rows[..4]).unwrap();
    let mut names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["results.csv", "results.json", "results.md"]);
    assert_eq!(
        fs::read_to_string(out.join("results.csv")).unwrap(),
        to_csv(&rows[..4])
    );
    assert_eq!(
        fs::read_to_string(out.join("results.json")).unwrap(),
        to_json(&rows[..4])
    );
    assert_eq!(
        fs::read_to_string(out.join("results.md")).unwrap(),
        to_markdown(&rows[..4])
    );
}

#[test]
fn unwritable_output_directory_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where a directory is needed: fails even for root.
    let blocker = dir.path().join("not-a-dir");
    fs::write(&blocker, b"x").unwrap();
    let out = blocker.join("report");
    let err = write_tables(&out, &realistic_rows()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains(&out.display().to_string()), "{message}");
}
