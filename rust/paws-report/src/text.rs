//! Text drawn with ab_glyph directly, onto any plotters drawing area.
//!
//! plotters 0.3.7's ab_glyph text path places every glyph at the pen position and drops
//! the glyph's left side bearing, so words come out unevenly spaced ("am erican",
//! "m odel"). Titles, axis descriptions and the legend are drawn here instead, with
//! bearings, sub-pixel pen positions and kerning. (Tick labels are digits, whose
//! bearings are nearly equal, and stay with plotters.)

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, OutlinedGlyph, PxScale, ScaleFont};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// DejaVu Sans (see `assets/DejaVuSans-LICENSE.txt`), so text never depends on the
/// fonts installed on the machine.
pub(crate) static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn font() -> Result<&'static FontRef<'static>, String> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok())
        .as_ref()
        .ok_or_else(|| "the embedded DejaVu Sans font cannot be loaded".to_string())
}

/// Text of one size and colour. `size` is in pixels, as plotters' font sizes.
#[derive(Clone, Copy)]
pub(crate) struct Label {
    pub size: f32,
    pub colour: RGBColor,
}

/// Glyph outlines laid out on a baseline at y = 0 from x = 0, and the advance width.
fn layout(text: &str, size: f32) -> Result<(Vec<OutlinedGlyph>, f32), String> {
    let font = font()?;
    let scaled = font.as_scaled(PxScale::from(size));
    let mut pen = 0.0f32;
    let mut previous = None;
    let mut glyphs = Vec::new();
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = previous {
            pen += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(PxScale::from(size), point(pen, 0.0));
        if let Some(outlined) = font.outline_glyph(glyph) {
            glyphs.push(outlined);
        }
        pen += scaled.h_advance(id);
        previous = Some(id);
    }
    Ok((glyphs, pen))
}

impl Label {
    pub fn new(size: f32, colour: RGBColor) -> Self {
        Label { size, colour }
    }

    /// Width of `text` in pixels.
    pub fn width(&self, text: &str) -> Result<f32, String> {
        Ok(layout(text, self.size)?.1)
    }

    /// Draws `text` so that its anchor point (`h`, `v` within the text's box, whose
    /// height is ascent to descent) lies at `at`, in the area's pixel coordinates.
    /// `vertical` turns the text 90° counter-clockwise (read bottom to top).
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        text: &str,
        at: (i32, i32),
        (h, v): (HPos, VPos),
        vertical: bool,
    ) -> Result<(), String> {
        let scaled = font()?.as_scaled(PxScale::from(self.size));
        let (ascent, descent) = (scaled.ascent(), scaled.descent());
        let (glyphs, width) = layout(text, self.size)?;
        // Offsets from the anchor to the start of the baseline, along and across the text.
        let along = match h {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let across = match v {
            VPos::Top => ascent,
            VPos::Center => (ascent + descent) / 2.0,
            VPos::Bottom => descent,
        };
        let mut result = Ok(());
        for glyph in &glyphs {
            let bounds = glyph.px_bounds();
            glyph.draw(|gx, gy, coverage| {
                if coverage <= 0.0 || result.is_err() {
                    return;
                }
                // Pixel position relative to the anchor, text laid out left to right.
                let u = along + bounds.min.x + gx as f32;
                let w = across + bounds.min.y + gy as f32;
                let (x, y) = if vertical { (w, -u) } else { (u, w) };
                let pixel = (at.0 + x.round() as i32, at.1 + y.round() as i32);
                let colour = self.colour.mix(f64::from(coverage.min(1.0)));
                if let Err(e) = area.draw_pixel(pixel, &colour) {
                    result = Err(e.to_string());
                }
            });
        }
        result
    }
}
