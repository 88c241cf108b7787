//! The breed confusion matrix as a heatmap: one row per true breed, one column per
//! predicted breed, each cell shaded by the share of the row's photos predicted as the
//! column's breed (so a breed of 1 held-out photo is as visible as one of 40) and
//! labelled with its count. Breed names are written in full, the columns' turned to
//! read bottom to top.

use std::path::Path;

use paws_core::breeds::metrics::ConfusionMatrix;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use crate::atomic::write_atomic;
use crate::error::{ReportError, Result};
use crate::plot::{encode_png, ensure_font};
use crate::text::Label;

/// Cell side in pixels.
const CELL: i32 = 24;
const PAD: i32 = 12;
const TITLE: i32 = 44;
const NAME_SIZE: f32 = 13.0;

/// The shade of a share in [0, 1]: white to dark blue.
fn shade(share: f64) -> RGBColor {
    let s = share.clamp(0.0, 1.0);
    let mix = |from: f64, to: f64| (from + (to - from) * s).round() as u8;
    RGBColor(mix(255.0, 8.0), mix(255.0, 48.0), mix(255.0, 107.0))
}

/// Draws `matrix` with `title` as a PNG written atomically to `path`, and returns its
/// size in pixels.
pub fn plot_confusion(path: &Path, matrix: &ConfusionMatrix, title: &str) -> Result<(u32, u32)> {
    let fail = |message: String| ReportError::plot(path, message);
    ensure_font().map_err(fail)?;
    let n = matrix.breeds.len() as i32;
    if n == 0 {
        return Err(fail("no breeds to draw".into()));
    }
    let names = Label::new(NAME_SIZE, BLACK);
    let mut longest = 0.0f32;
    for b in &matrix.breeds {
        longest = longest.max(names.width(b).map_err(fail)?);
    }
    let margin = longest.ceil() as i32 + 2 * PAD;
    let axis = 22; // room for "predicted" and "actual"
    let (x0, y0) = (axis + margin, TITLE + axis + margin);
    let width = (x0 + n * CELL + PAD).max(420) as u32;
    let height = (y0 + n * CELL + PAD) as u32;
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    draw(
        &mut pixels,
        (width, height),
        matrix,
        title,
        (x0, y0),
        &names,
    )
    .map_err(fail)?;
    let png = encode_png(&pixels, width, height).map_err(fail)?;
    write_atomic(path, &png)?;
    Ok((width, height))
}

fn draw(
    pixels: &mut [u8],
    size: (u32, u32),
    matrix: &ConfusionMatrix,
    title: &str,
    (x0, y0): (i32, i32),
    names: &Label,
) -> std::result::Result<(), String> {
    let root = BitMapBackend::with_buffer(pixels, size).into_drawing_area();
    let err = |e: DrawingAreaErrorKind<_>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    Label::new(20.0, BLACK).draw(
        &root,
        title,
        (size.0 as i32 / 2, TITLE / 2),
        (HPos::Center, VPos::Center),
        false,
    )?;
    let n = matrix.breeds.len() as i32;
    let axis = Label::new(15.0, RGBColor(80, 80, 80));
    axis.draw(
        &root,
        "predicted",
        (x0 + n * CELL / 2, TITLE + 2),
        (HPos::Center, VPos::Top),
        false,
    )?;
    axis.draw(
        &root,
        "actual",
        (2, y0 + n * CELL / 2),
        (HPos::Center, VPos::Top),
        true,
    )?;
    for (i, name) in matrix.breeds.iter().enumerate() {
        let c = i as i32 * CELL + CELL / 2;
        names.draw(
            &root,
            name,
            (x0 - PAD / 2, y0 + c),
            (HPos::Right, VPos::Center),
            false,
        )?;
        names.draw(
            &root,
            name,
            (x0 + c, y0 - PAD / 2),
            (HPos::Left, VPos::Center),
            true,
        )?;
    }
    let count = Label::new(11.0, BLACK);
    let light = Label::new(11.0, WHITE);
    for (i, row) in matrix.counts.iter().enumerate() {
        let total: u64 = row.iter().sum();
        for (j, &k) in row.iter().enumerate() {
            let share = if total > 0 {
                k as f64 / total as f64
            } else {
                0.0
            };
            let (x, y) = (x0 + j as i32 * CELL, y0 + i as i32 * CELL);
            root.draw(&Rectangle::new(
                [(x, y), (x + CELL, y + CELL)],
                shade(share).filled(),
            ))
            .map_err(err)?;
            let grid = RGBColor(225, 225, 225);
            root.draw(&Rectangle::new(
                [(x, y), (x + CELL, y + CELL)],
                grid.stroke_width(1),
            ))
            .map_err(err)?;
            if k > 0 {
                let label = if share > 0.5 { &light } else { &count };
                label.draw(
                    &root,
                    &k.to_string(),
                    (x + CELL / 2, y + CELL / 2),
                    (HPos::Center, VPos::Center),
                    false,
                )?;
            }
        }
    }
    // The diagonal framed, after the grid so that no neighbour covers a side: a
    // breed's correct cell is found at a glance.
    for i in 0..n {
        let (x, y) = (x0 + i * CELL, y0 + i * CELL);
        let frame = RGBColor(200, 120, 0);
        root.draw(&Rectangle::new(
            [(x, y), (x + CELL, y + CELL)],
            frame.stroke_width(1),
        ))
        .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heatmap_is_a_png_sized_for_its_breeds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.png");
        let mut m = ConfusionMatrix::new(vec![
            "Abyssinian".into(),
            "american_pit_bull_terrier".into(),
            "pug".into(),
        ]);
        m.counts[0][0] = 3;
        m.counts[1][2] = 1;
        let (w, h) = plot_confusion(&path, &m, "test").unwrap();
        let img = image::open(&path).unwrap();
        assert_eq!((img.width(), img.height()), (w, h));
        // Rows and columns of 24 px for 3 breeds, plus the names' margin.
        assert!(h > 3 * 24 + 100 && h < 500, "{h}");
        // The correct cell of Abyssinian (3 of 3) is dark.
        let rgb = img.to_rgb8();
        // The grid's corner: below the title, as far from the left as from the top.
        let y0 = h as i32 - PAD - 3 * CELL;
        let x0 = y0 - TITLE;
        let p = rgb.get_pixel((x0 + 3) as u32, (y0 + 3) as u32);
        assert!(p[0] < 60, "{p:?}");
    }
}
