//! Decoding by content and preprocessing, on synthetic images made here.

mod common;

use common::{encode, jpeg, uniform, write};
use image::{DynamicImage, GrayImage, ImageFormat, Luma, LumaA, Rgb, RgbImage, Rgba, RgbaImage};
use paws_vision::preprocess::{center_crop, normalize, preprocess, resize_short_side};
use paws_vision::{decode_file, VisionError};

#[test]
fn gif_with_a_jpg_name_decodes_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let img = RgbImage::from_fn(20, 10, |x, _| {
        if x < 10 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let p = write(
        dir.path(),
        "Bengal_1.jpg",
        &encode(DynamicImage::ImageRgb8(img), ImageFormat::Gif),
    );
    let rgb = decode_file(&p).unwrap();
    assert_eq!(rgb.dimensions(), (20, 10));
    assert_eq!(rgb.get_pixel(2, 5), &Rgb([255, 0, 0]));
    assert_eq!(rgb.get_pixel(15, 5), &Rgb([0, 0, 255]));
}

#[test]
fn rgba_png_with_a_jpg_name_drops_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let img = RgbaImage::from_fn(8, 6, |x, _| Rgba([10, 20, 30, (x * 30) as u8]));
    let p = write(
        dir.path(),
        "Bengal_2.jpg",
        &encode(DynamicImage::ImageRgba8(img), ImageFormat::Png),
    );
    let rgb = decode_file(&p).unwrap();
    assert_eq!(rgb.dimensions(), (8, 6));
    assert!(rgb.pixels().all(|p| *p == Rgb([10, 20, 30])));
}

#[test]
fn greyscale_and_grey_alpha_become_three_equal_channels() {
    let dir = tempfile::tempdir().unwrap();
    let grey = GrayImage::from_pixel(5, 7, Luma([77]));
    let p = write(
        dir.path(),
        "grey.png",
        &encode(DynamicImage::ImageLuma8(grey.clone()), ImageFormat::Png),
    );
    let rgb = decode_file(&p).unwrap();
    assert_eq!(rgb.dimensions(), (5, 7));
    assert!(rgb.pixels().all(|p| *p == Rgb([77, 77, 77])));

    let la = image::GrayAlphaImage::from_pixel(3, 3, LumaA([200, 0]));
    let p = write(
        dir.path(),
        "la.png",
        &encode(DynamicImage::ImageLumaA8(la), ImageFormat::Png),
    );
    assert!(decode_file(&p)
        .unwrap()
        .pixels()
        .all(|p| *p == Rgb([200, 200, 200])));

    // A greyscale JPEG (one component).
    let p = write(
        dir.path(),
        "grey.jpg",
        &encode(DynamicImage::ImageLuma8(grey), ImageFormat::Jpeg),
    );
    let rgb = decode_file(&p).unwrap();
    assert!(rgb
        .pixels()
        .all(|p| p[0] == p[1] && p[1] == p[2] && p[0].abs_diff(77) <= 2));
}

#[test]
fn sixteen_bit_png_is_scaled_to_eight_bits() {
    let dir = tempfile::tempdir().unwrap();
    let img = image::ImageBuffer::<Rgb<u16>, _>::from_pixel(4, 4, Rgb([65535, 0, 32896]));
    let p = write(
        dir.path(),
        "deep.png",
        &encode(DynamicImage::ImageRgb16(img), ImageFormat::Png),
    );
    assert!(decode_file(&p)
        .unwrap()
        .pixels()
        .all(|p| *p == Rgb([255, 0, 128])));
}

#[test]
fn truncated_jpeg_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let full = jpeg(64, 48);
    let ok = write(dir.path(), "whole.jpg", &full);
    assert_eq!(decode_file(&ok).unwrap().dimensions(), (64, 48));
    for keep in [full.len() / 3, full.len() * 2 / 3, full.len() - 2] {
        let p = write(dir.path(), "cut.jpg", &full[..keep]);
        let err = decode_file(&p).unwrap_err();
        assert!(matches!(err, VisionError::Decode { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("cut.jpg"), "{msg}");
        assert!(msg.contains("truncated"), "{msg}");
    }
}

#[test]
fn truncated_png_and_garbage_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let png = encode(
        DynamicImage::ImageRgb8(RgbImage::from_fn(32, 32, |x, y| {
            Rgb([x as u8 * 8, y as u8 * 8, 1])
        })),
        ImageFormat::Png,
    );
    let p = write(dir.path(), "cut.png", &png[..png.len() / 2]);
    assert!(decode_file(&p).unwrap_err().to_string().contains("cut.png"));
    let p = write(dir.path(), "notes.jpg", b"not an image at all");
    let msg = decode_file(&p).unwrap_err().to_string();
    assert!(
        msg.contains("notes.jpg") && msg.contains("unrecognised"),
        "{msg}"
    );
    let missing = dir.path().join("missing.jpg");
    assert!(decode_file(&missing)
        .unwrap_err()
        .to_string()
        .contains("missing.jpg"));
}

#[test]
fn crop_geometry_on_landscape_and_portrait_images() {
    // Short side already 256: no resampling, so the crop offsets can be checked exactly.
    let land = RgbImage::from_fn(512, 256, |x, y| Rgb([(x / 2) as u8, y as u8, 0]));
    let t = preprocess(&land, 224);
    assert_eq!(t.len(), 3 * 224 * 224);
    let (r, g) = (&t[..224 * 224], &t[224 * 224..2 * 224 * 224]);
    // x offset (512 - 224) / 2 = 144, y offset (256 - 224) / 2 = 16.
    assert_eq!(r[0], normalize(72));
    assert_eq!(r[223], normalize(((144 + 223) / 2) as u8));
    assert_eq!(g[0], normalize(16));
    assert_eq!(g[223 * 224], normalize(16 + 223));

    let port = RgbImage::from_fn(256, 512, |x, y| Rgb([x as u8, (y / 2) as u8, 0]));
    let t = preprocess(&port, 224);
    let (r, g) = (&t[..224 * 224], &t[224 * 224..2 * 224 * 224]);
    assert_eq!(r[0], normalize(16));
    assert_eq!(g[0], normalize(72));
    assert_eq!(g[223 * 224], normalize(((144 + 223) / 2) as u8));
}

#[test]
fn resize_then_crop_dimensions() {
    let img = RgbImage::new(500, 375);
    let r = resize_short_side(&img, 256);
    assert_eq!(r.dimensions(), (341, 256));
    assert_eq!(center_crop(&r, 224).dimensions(), (224, 224));
    // Small images are enlarged.
    let small = RgbImage::new(30, 20);
    assert_eq!(preprocess(&small, 224).len(), 3 * 224 * 224);
}

#[test]
fn uniform_colour_normalises_to_known_values() {
    let t = preprocess(&uniform(300, 400, [0, 128, 255]), 224);
    let plane = 224 * 224;
    assert!(t[..plane].iter().all(|&v| v == -1.0));
    let g = (128.0f32 / 255.0 - 0.5) / 0.5;
    assert!(t[plane..2 * plane].iter().all(|&v| (v - g).abs() < 1e-6));
    assert!(t[2 * plane..].iter().all(|&v| v == 1.0));
    assert!(t.iter().all(|v| (-1.0..=1.0).contains(v)));
}
