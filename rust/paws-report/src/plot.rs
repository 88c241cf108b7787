//! The accuracy-against-split plot: one line with markers per comparison and, in the
//! same colour, a thin dashed line at the majority-class baseline. A model whose line
//! lies on its baseline has learnt nothing.
//!
//! Lines with equal values (several comparisons at 100 %, baselines at 50 %) lie on top
//! of each other, so every comparison has its own dash pattern, marker shape and marker
//! size (the first comparison's markers are the largest, so later ones drawn over them
//! leave its edge visible), its baseline its own dash length, and the legend names the
//! comparisons whose accuracy lines are identical.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use paws_core::experiment::results::ResultRow;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::{register_font, FontStyle};

use crate::atomic::write_atomic;
use crate::error::{ReportError, Result};
use crate::text::{Label, FONT_BYTES};

/// Size of the PNG in pixels.
pub const PLOT_WIDTH: u32 = 1000;
pub const PLOT_HEIGHT: u32 = 600;

/// plotters' name for the embedded font, used for the tick labels.
const FONT: &str = "sans-serif";

const X_DESC: &str = "train split (share of each class used for training)";
const Y_DESC: &str = "test accuracy (%)";

/// Tableau 10, with its grey replaced by dark teal (grey is the legend's neutral colour).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(0, 110, 110),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The accuracy line of comparison `i`: `None` is solid, `Some((dash, gap))` dashed.
fn line_pattern(i: usize) -> Option<(u32, u32)> {
    const PATTERNS: [Option<(u32, u32)>; 6] = [
        None,
        Some((14, 6)),
        Some((5, 5)),
        Some((24, 6)),
        Some((9, 4)),
        Some((3, 3)),
    ];
    PATTERNS[i % PATTERNS.len()]
}

/// The baseline of comparison `i`: (dash, gap), dashes of different lengths so that
/// baselines at the same value show every colour.
fn baseline_pattern(i: usize) -> (u32, u32) {
    const PATTERNS: [(u32, u32); 5] = [(9, 6), (4, 11), (15, 10), (2, 7), (6, 3)];
    PATTERNS[i % PATTERNS.len()]
}

/// Marker radius of comparison `i`: decreasing, so coinciding markers nest.
fn marker_size(i: usize) -> i32 {
    8 - (i % 4) as i32
}

/// The marker of comparison `i` at `at` (data coordinates in the chart, pixels in the
/// legend): a filled circle, a filled triangle, a ring or an open triangle.
fn marker<DB: DrawingBackend, C: Clone + 'static>(
    i: usize,
    at: C,
    colour: RGBColor,
) -> DynElement<'static, DB, C> {
    let r = marker_size(i);
    match i % 4 {
        0 => Circle::new(at, r, colour.filled()).into_dyn(),
        1 => TriangleMarker::new(at, r + 2, colour.filled()).into_dyn(),
        2 => Circle::new(at, r, colour.stroke_width(3)).into_dyn(),
        _ => TriangleMarker::new(at, r + 2, colour.stroke_width(2)).into_dyn(),
    }
}

/// Draws test accuracy (%) against train split, one line per comparison
/// (`class1 vs class2`; `… (N it.)` when the rows mix iteration counts), with the
/// majority-class baseline dashed, as a PNG of [`PLOT_WIDTH`]×[`PLOT_HEIGHT`] written
/// atomically to `path`. Rows with non-finite values are skipped; no plottable row is an
/// error.
pub fn plot_accuracy(path: &Path, rows: &[ResultRow], title: &str) -> Result<()> {
    ensure_font().map_err(|message| ReportError::plot(path, message))?;
    let series = group(rows);
    if series.is_empty() {
        return Err(ReportError::plot(
            path,
            "no rows with finite values to plot",
        ));
    }
    let png = draw(&series, title)
        .and_then(|pixels| encode_png(&pixels, PLOT_WIDTH, PLOT_HEIGHT))
        .map_err(|message| ReportError::plot(path, message))?;
    write_atomic(path, &png)
}

/// PNG bytes of an RGB pixel buffer, through the `png` crate (the encoder `image` uses):
/// plotters' `bitmap_encoder` would compile a second, older `image` and its codecs, and
/// `image` itself is more than a plot needs (the demo's build has no image decoding).
pub(crate) fn encode_png(
    rgb: &[u8],
    width: u32,
    height: u32,
) -> std::result::Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(rgb))
        .map_err(|e| format!("encoding the PNG: {e}"))?;
    Ok(bytes)
}

pub(crate) fn ensure_font() -> std::result::Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok());
    if ok {
        Ok(())
    } else {
        Err("the embedded DejaVu Sans font cannot be loaded".to_string())
    }
}

/// One comparison's line.
struct Series {
    label: String,
    /// (split, accuracy %, flagged), sorted by split.
    points: Vec<(f64, f64, bool)>,
    /// (split, majority-class accuracy %), sorted by split.
    baseline: Vec<(f64, f64)>,
}

/// Groups rows by comparison in order of first appearance.
fn group(rows: &[ResultRow]) -> Vec<Series> {
    let mixed_iterations = rows
        .iter()
        .map(|r| r.iterations)
        .collect::<BTreeSet<_>>()
        .len()
        > 1;
    let mut keys: Vec<(&str, &str, u32)> = Vec::new();
    let mut series: Vec<Series> = Vec::new();
    for row in rows {
        let key = (row.class1.as_str(), row.class2.as_str(), row.iterations);
        let index = match keys.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                keys.push(key);
                let mut label = format!("{} vs {}", row.class1, row.class2);
                if mixed_iterations {
                    label.push_str(&format!(" ({} it.)", row.iterations));
                }
                series.push(Series {
                    label,
                    points: Vec::new(),
                    baseline: Vec::new(),
                });
                series.len() - 1
            }
        };
        let s = &mut series[index];
        if row.split.is_finite() && row.predict_pct.is_finite() {
            s.points
                .push((row.split, row.predict_pct, !row.flag.trim().is_empty()));
        }
        if row.split.is_finite() && row.majority_pct.is_finite() {
            s.baseline.push((row.split, row.majority_pct));
        }
    }
    for s in &mut series {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        s.baseline.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    series.retain(|s| !s.points.is_empty() || !s.baseline.is_empty());
    series
}

/// Axis ranges: the splits with a margin, and from a bit below the lowest value to 100
/// (plus room for the markers at 100).
fn ranges(series: &[Series]) -> ((f64, f64), (f64, f64)) {
    let xs = series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.0)
            .chain(s.baseline.iter().map(|p| p.0))
    });
    let ys = series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.1)
            .chain(s.baseline.iter().map(|p| p.1))
    });
    let (x_min, x_max) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    let y_min = ys.fold(f64::INFINITY, f64::min);
    let x_pad = ((x_max - x_min) * 0.05).max(0.05);
    let y_low = (((y_min.min(100.0) - 3.0) / 5.0).floor() * 5.0).max(0.0);
    let y_high = 100.0 + (100.0 - y_low) * 0.02;
    ((x_min - x_pad, x_max + x_pad), (y_low, y_high))
}

/// Draws the plot into an RGB buffer of `PLOT_WIDTH` x `PLOT_HEIGHT` pixels.
fn draw(series: &[Series], title: &str) -> std::result::Result<Vec<u8>, String> {
    let mut pixels = vec![0u8; PLOT_WIDTH as usize * PLOT_HEIGHT as usize * 3];
    draw_into(&mut pixels, series, title)?;
    Ok(pixels)
}

fn draw_into(pixels: &mut [u8], series: &[Series], title: &str) -> std::result::Result<(), String> {
    let root = BitMapBackend::with_buffer(pixels, (PLOT_WIDTH, PLOT_HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;

    let title_label = Label::new(24.0, BLACK);
    let legend_label = Label::new(15.0, BLACK);
    let axis_label = Label::new(17.0, BLACK);

    let (title_area, body) = root.split_vertically(TITLE_HEIGHT);
    title_label.draw(
        &title_area,
        title,
        (PLOT_WIDTH as i32 / 2, TITLE_HEIGHT as i32 / 2),
        (HPos::Center, VPos::Center),
        false,
    )?;

    let legend_width = legend_width(series, &legend_label)?;
    let (chart_area, legend_area) = body.split_horizontally(PLOT_WIDTH - legend_width);

    let ((x0, x1), (y0, y1)) = ranges(series);
    let mut chart = ChartBuilder::on(&chart_area)
        .margin_left(10)
        .margin_right(15)
        .margin_top(10)
        .margin_bottom(10)
        .x_label_area_size(60)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .label_style((FONT, 14))
        .x_labels(12)
        .y_labels(12)
        .x_label_formatter(&|x| format!("{x:.1}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(|e| e.to_string())?;

    // Axis descriptions, centred on the plot area, outside the tick labels.
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let (cx, cy) = ((xs.start + xs.end) / 2, (ys.start + ys.end) / 2);
    axis_label.draw(
        &root,
        X_DESC,
        (cx, ys.end + 55),
        (HPos::Center, VPos::Bottom),
        false,
    )?;
    axis_label.draw(
        &root,
        Y_DESC,
        (xs.start - 58, cy),
        (HPos::Center, VPos::Top),
        true,
    )?;

    // Baselines first, so the accuracy lines are drawn over them.
    for (i, s) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let (dash, gap) = baseline_pattern(i);
        chart
            .draw_series(DashedLineSeries::new(
                s.baseline.iter().copied(),
                dash,
                gap,
                colour.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
    }
    for (i, s) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let points = s.points.iter().map(|&(x, y, _)| (x, y));
        match line_pattern(i) {
            None => chart.draw_series(LineSeries::new(points, colour.stroke_width(3))),
            Some((dash, gap)) => chart.draw_series(DashedLineSeries::new(
                points,
                dash,
                gap,
                colour.stroke_width(3),
            )),
        }
        .map_err(|e| e.to_string())?;
        chart
            .draw_series(s.points.iter().map(|&(x, y, flagged)| {
                if flagged {
                    Cross::new((x, y), 7, colour.stroke_width(3)).into_dyn()
                } else {
                    marker(i, (x, y), colour)
                }
            }))
            .map_err(|e| e.to_string())?;
    }

    draw_legend(&legend_area, series, &legend_label)?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// Height of the title band, in pixels.
const TITLE_HEIGHT: u32 = 44;

/// Legend sample width, gap to text, and outer margins, in pixels.
const SAMPLE: i32 = 36;
const GAP: i32 = 8;
const MARGIN: i32 = 12;
const ROW: i32 = 24;

const BASELINE_ENTRY: &str = "majority-class baseline";
const FLAGGED_ENTRY: &str = "flagged model";

/// A comparison's legend entry: its label, and "(= …)" naming the first earlier
/// comparison whose accuracy line is identical (so hidden lines are accounted for).
fn legend_entry(series: &[Series], i: usize) -> String {
    let same = |a: &Series, b: &Series| {
        a.points.len() == b.points.len()
            && a.points
                .iter()
                .zip(&b.points)
                .all(|(p, q)| p.0 == q.0 && p.1 == q.1)
    };
    match series[..i].iter().find(|earlier| same(earlier, &series[i])) {
        Some(earlier) => format!("{} (= {})", series[i].label, earlier.label),
        None => series[i].label.clone(),
    }
}

fn any_flagged(series: &[Series]) -> bool {
    series.iter().any(|s| s.points.iter().any(|p| p.2))
}

/// Width of the legend panel on the right: wide enough for the longest entry, at most
/// 40 % of the picture.
fn legend_width(series: &[Series], label: &Label) -> std::result::Result<u32, String> {
    let mut widest = 0.0f32;
    let entries = (0..series.len())
        .map(|i| legend_entry(series, i))
        .chain([BASELINE_ENTRY.to_string(), FLAGGED_ENTRY.to_string()]);
    for entry in entries {
        widest = widest.max(label.width(&entry)?);
    }
    let width = widest.ceil() as u32 + (SAMPLE + GAP + 2 * MARGIN) as u32;
    Ok(width.min(PLOT_WIDTH * 2 / 5))
}

/// The legend, outside the plot so it can never cover a line: one entry per
/// comparison, then what the dashed line (and, if any, the cross) means.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[Series],
    label: &Label,
) -> std::result::Result<(), String> {
    let grey = RGBColor(120, 120, 120);
    let x0 = MARGIN;
    let mid = x0 + SAMPLE / 2;
    let text_x = x0 + SAMPLE + GAP;
    let anchor = (HPos::Left, VPos::Center);
    let mut y = 10 + ROW / 2; // level with the top of the plot area
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();

    for i in 0..series.len() {
        let colour = PALETTE[i % PALETTE.len()];
        let sample = vec![(x0, y), (x0 + SAMPLE, y)];
        match line_pattern(i) {
            None => area.draw(&PathElement::new(sample, colour.stroke_width(3))),
            Some((dash, gap)) => area.draw(&DashedPathElement::new(
                sample,
                dash,
                gap,
                colour.stroke_width(3),
            )),
        }
        .map_err(err)?;
        area.draw(&marker(i, (mid, y), colour)).map_err(err)?;
        label.draw(area, &legend_entry(series, i), (text_x, y), anchor, false)?;
        y += ROW;
    }

    y += ROW / 2;
    area.draw(&DashedPathElement::new(
        vec![(x0, y), (x0 + SAMPLE, y)],
        9,
        6,
        grey.stroke_width(2),
    ))
    .map_err(err)?;
    label.draw(area, BASELINE_ENTRY, (text_x, y), anchor, false)?;
    if any_flagged(series) {
        y += ROW;
        area.draw(&Cross::new((mid, y), 7, grey.stroke_width(3)))
            .map_err(err)?;
        label.draw(area, FLAGGED_ENTRY, (text_x, y), anchor, false)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(label: &str, ys: &[f64]) -> Series {
        Series {
            label: label.to_string(),
            points: ys
                .iter()
                .enumerate()
                .map(|(i, &y)| (i as f64, y, false))
                .collect(),
            baseline: Vec::new(),
        }
    }

    #[test]
    fn identical_lines_are_named_in_the_legend_and_styled_apart() {
        let s = [
            series("A vs B", &[100.0, 100.0]),
            series("A vs C", &[100.0, 100.0]),
            series("B vs C", &[90.0, 100.0]),
        ];
        assert_eq!(legend_entry(&s, 0), "A vs B");
        assert_eq!(legend_entry(&s, 1), "A vs C (= A vs B)");
        assert_eq!(legend_entry(&s, 2), "B vs C");
        for i in 0..4 {
            for j in 0..i {
                assert_ne!(line_pattern(i), line_pattern(j));
                assert_ne!(baseline_pattern(i), baseline_pattern(j));
                assert_ne!(marker_size(i), marker_size(j));
            }
        }
    }
}
