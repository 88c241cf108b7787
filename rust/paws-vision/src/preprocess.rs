//! ImageNet-style preprocessing for the default CNN (EfficientNet-Lite0).
//!
//! For an input size `S` (224 by default):
//! 1. resize so that the short side is `round(S * 256 / 224)` (256 for 224), keeping the
//!    aspect ratio (the long side is rounded to the nearest pixel), with a bilinear
//!    (triangle) filter that widens its support when shrinking, like PIL's `BILINEAR`;
//! 2. crop the centre `S × S` (the offset is `(side - S) / 2`, rounded down);
//! 3. map every 8-bit value `x` to `(x / 255 - 0.5) / 0.5`, i.e. into `[-1, 1]`;
//! 4. lay the result out as NCHW `f32` for one image: `3 × S × S`, channel-major
//!    (all R, then all G, then all B), row-major within a channel.

use image::imageops::{self, FilterType};
use image::RgbImage;

/// The short side the image is resized to before the 224 centre crop.
pub const RESIZE_SHORT_SIDE: u32 = 256;
/// The default (and EfficientNet-Lite0's) square input size.
pub const DEFAULT_INPUT_SIZE: u32 = 224;

/// The short side used for input size `size`: 256 for 224, in proportion otherwise.
pub fn short_side_for(size: u32) -> u32 {
    ((f64::from(size) * f64::from(RESIZE_SHORT_SIDE) / f64::from(DEFAULT_INPUT_SIZE)).round()
        as u32)
        .max(size)
}

/// Resizes `img` so that its short side is `short`, keeping the aspect ratio.
pub fn resize_short_side(img: &RgbImage, short: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let (nw, nh) = if w <= h {
        (short, scale_side(h, short, w))
    } else {
        (scale_side(w, short, h), short)
    };
    if (nw, nh) == (w, h) {
        return img.clone();
    }
    imageops::resize(img, nw, nh, FilterType::Triangle)
}

fn scale_side(long: u32, short_target: u32, short: u32) -> u32 {
    ((f64::from(long) * f64::from(short_target) / f64::from(short)).round() as u32)
        .max(short_target)
}

/// The centre `size × size` crop of `img`, which must be at least that large.
pub fn center_crop(img: &RgbImage, size: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    assert!(
        w >= size && h >= size,
        "center_crop: {w}x{h} is smaller than {size}"
    );
    imageops::crop_imm(img, (w - size) / 2, (h - size) / 2, size, size).to_image()
}

/// Maps an 8-bit channel value to the network's input range `[-1, 1]`.
#[inline]
pub fn normalize(x: u8) -> f32 {
    (f32::from(x) / 255.0 - 0.5) / 0.5
}

/// Writes `img` as normalised planar CHW `f32` into `out` (length `3 * w * h`).
pub fn to_chw(img: &RgbImage, out: &mut [f32]) {
    let plane = (img.width() * img.height()) as usize;
    assert_eq!(
        out.len(),
        3 * plane,
        "to_chw: output buffer has the wrong size"
    );
    let (r, rest) = out.split_at_mut(plane);
    let (g, b) = rest.split_at_mut(plane);
    for (i, px) in img.pixels().enumerate() {
        r[i] = normalize(px[0]);
        g[i] = normalize(px[1]);
        b[i] = normalize(px[2]);
    }
}

/// The full pipeline: resize, centre crop and normalise one image to a `1 × 3 × S × S`
/// NCHW tensor, returned as its `3 * S * S` values.
pub fn preprocess(img: &RgbImage, input_size: u32) -> Vec<f32> {
    let resized = resize_short_side(img, short_side_for(input_size));
    let cropped = center_crop(&resized, input_size);
    let mut out = vec![0.0; 3 * (input_size * input_size) as usize];
    to_chw(&cropped, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn short_side_is_256_for_224() {
        assert_eq!(short_side_for(224), 256);
        assert_eq!(short_side_for(112), 128);
        assert_eq!(short_side_for(1), 1);
    }

    #[test]
    fn resize_keeps_aspect_ratio_and_rounds() {
        let img = RgbImage::new(500, 375);
        let r = resize_short_side(&img, 256);
        assert_eq!(r.dimensions(), (341, 256)); // 500 * 256 / 375 = 341.33
        let img = RgbImage::new(300, 450);
        assert_eq!(resize_short_side(&img, 256).dimensions(), (256, 384));
        let img = RgbImage::new(10, 10);
        assert_eq!(resize_short_side(&img, 256).dimensions(), (256, 256));
    }

    #[test]
    fn normalisation_of_known_values() {
        assert_eq!(normalize(0), -1.0);
        assert_eq!(normalize(255), 1.0);
        assert!((normalize(128) - (128.0 / 255.0 - 0.5) / 0.5).abs() < 1e-7);
        assert!(normalize(128) > 0.0 && normalize(127) < 0.0);
    }

    #[test]
    fn chw_layout_is_planar() {
        let img = RgbImage::from_fn(2, 2, |x, y| Rgb([(x + 2 * y) as u8, 255, 0]));
        let mut out = vec![0.0; 12];
        to_chw(&img, &mut out);
        let r: Vec<f32> = (0..4).map(|v| normalize(v as u8)).collect();
        assert_eq!(&out[0..4], &r[..]);
        assert!(out[4..8].iter().all(|&v| v == 1.0));
        assert!(out[8..12].iter().all(|&v| v == -1.0));
    }
}
