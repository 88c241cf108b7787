//! Synthetic fixtures shared by the integration tests.
#![allow(dead_code)]

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// Encodes `img` in `format`.
pub fn encode(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

/// A uniform RGB image.
pub fn uniform(w: u32, h: u32, c: [u8; 3]) -> RgbImage {
    RgbImage::from_pixel(w, h, Rgb(c))
}

/// A JPEG of a smooth gradient (big enough to have several MCU rows).
pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 100]));
    encode(DynamicImage::ImageRgb8(img), ImageFormat::Jpeg)
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The tiny test model (see tools/make_test_model.py): "features" is the mean of each
/// input channel, "fc2" its ReLU, "logits" = [f0, f1, f2, f0+f1+f2+0.5].
pub fn tiny_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny.onnx")
}

/// The workspace's sibling `shared` folder (`<workspace>/../shared`).
pub fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}
