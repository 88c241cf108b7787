//! Image decoding by content, never by file name.
//!
//! Photos as users have them are not always what their names say: a `.jpg` may hold a
//! GIF or a PNG, and pixels come as greyscale, grey+alpha, RGBA, 16-bit or CMYK. Every
//! supported format (JPEG, PNG, GIF, BMP, WebP) and colour type is converted to
//! 8-bit RGB: alpha is dropped (not composited), greyscale is replicated, and an animated
//! GIF gives its first frame. EXIF orientation is not applied, matching PIL's
//! `Image.open(..).convert("RGB")` that reference pipelines use.
//!
//! The `image` crate's JPEG decoder is lenient: it fills a truncated scan with grey and
//! reports success. A JPEG without an end-of-image marker after its first scan is
//! therefore rejected here as truncated, so a half-downloaded photo never silently
//! becomes a feature row.
//!
//! Images from strangers (the `paws serve` uploads) go through [`decode_bytes_within`],
//! which reads the declared size from the header and refuses an image with too many
//! pixels before decoding any.

use crate::error::{Result, VisionError};
use image::{ImageFormat, ImageReader, Limits, RgbImage};
use std::io::Cursor;
use std::path::Path;

/// Reads and decodes the image file at `path` to RGB8. Errors name the file.
pub fn decode_file(path: &Path) -> Result<RgbImage> {
    let bytes = std::fs::read(path).map_err(|cause| VisionError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    decode_bytes(&bytes, path)
}

/// Decodes an encoded image held in memory to RGB8; `name` is used in errors only.
pub fn decode_bytes(bytes: &[u8], name: &Path) -> Result<RgbImage> {
    decode(bytes, name, None)
}

/// What an encoded image declares in its header, read without decoding any pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}

/// Sniffs the format from the content (never from a name or a Content-Type) and reads
/// the declared dimensions.
pub fn probe_bytes(bytes: &[u8], name: &Path) -> Result<Probe> {
    let reader = reader_for(bytes, name)?;
    let format = reader.format().expect("reader_for sets the format");
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| VisionError::decode(name, format!("{format:?}: {e}")))?;
    Ok(Probe {
        format,
        width,
        height,
    })
}

/// [`probe_bytes`], refusing an image that declares more than `max_pixels` pixels with
/// [`VisionError::TooLarge`].
pub fn probe_bytes_within(bytes: &[u8], name: &Path, max_pixels: u64) -> Result<Probe> {
    let probe = probe_bytes(bytes, name)?;
    if u64::from(probe.width) * u64::from(probe.height) > max_pixels {
        return Err(VisionError::TooLarge {
            path: name.to_path_buf(),
            width: probe.width,
            height: probe.height,
            max_pixels,
        });
    }
    Ok(probe)
}

/// As [`decode_bytes`], for untrusted input: an image declaring more than `max_pixels`
/// pixels is refused with [`VisionError::TooLarge`] before decoding, and the decoder's
/// own allocation limit is set from the same bound.
pub fn decode_bytes_within(bytes: &[u8], name: &Path, max_pixels: u64) -> Result<RgbImage> {
    decode(bytes, name, Some(max_pixels))
}

fn reader_for<'a>(bytes: &'a [u8], name: &Path) -> Result<ImageReader<Cursor<&'a [u8]>>> {
    if bytes.is_empty() {
        return Err(VisionError::decode(name, "the file is empty"));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| VisionError::decode(name, e.to_string()))?;
    match reader.format() {
        Some(
            ImageFormat::Jpeg
            | ImageFormat::Png
            | ImageFormat::Gif
            | ImageFormat::Bmp
            | ImageFormat::WebP,
        ) => Ok(reader),
        _ => Err(VisionError::UnknownFormat {
            path: name.to_path_buf(),
        }),
    }
}

fn decode(bytes: &[u8], name: &Path, max_pixels: Option<u64>) -> Result<RgbImage> {
    let mut reader = reader_for(bytes, name)?;
    let format = reader.format().expect("reader_for sets the format");
    // First, so that a cut JPEG is named truncated, whatever part of it is missing.
    if format == ImageFormat::Jpeg {
        check_jpeg_complete(bytes).map_err(|m| VisionError::decode(name, m))?;
    }
    if let Some(max_pixels) = max_pixels {
        probe_bytes_within(bytes, name, max_pixels)?;
        // Belt and braces for a header that lies: RGBA16 is the widest buffer a
        // decoder makes (8 bytes a pixel), plus the RGB8 copy.
        let mut limits = Limits::default();
        limits.max_alloc = Some(max_pixels.saturating_mul(11));
        reader.limits(limits);
    }
    let image = reader
        .decode()
        .map_err(|e| VisionError::decode(name, format!("{format:?}: {e}")))?;
    if image.width() == 0 || image.height() == 0 {
        return Err(VisionError::decode(name, "the image has no pixels"));
    }
    Ok(image.into_rgb8())
}

/// Checks that a JPEG stream has an end-of-image marker after its first scan.
///
/// Walks the marker segments up to the first start-of-scan (so that thumbnails inside
/// EXIF segments are not mistaken for the end of the image), then looks for `FF D9`.
/// Inside entropy-coded data a `FF` byte is always followed by `00` or a restart marker,
/// so `FF D9` there can only be the real end-of-image marker. Trailing bytes after it
/// are allowed.
fn check_jpeg_complete(b: &[u8]) -> std::result::Result<(), String> {
    const TRUNCATED: &str = "truncated JPEG: the file ends before the image data is complete";
    if b.len() < 2 || b[0] != 0xFF || b[1] != 0xD8 {
        return Err("not a JPEG stream (no start-of-image marker)".into());
    }
    let mut i = 2;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        while i < b.len() && b[i] == 0xFF && i + 1 < b.len() && b[i + 1] == 0xFF {
            i += 1;
        }
        if i + 1 >= b.len() {
            return Err(TRUNCATED.into());
        }
        if b[i] != 0xFF {
            return Err(format!("corrupt JPEG: expected a marker at byte {i}"));
        }
        let marker = b[i + 1];
        match marker {
            0xD9 => return Err("corrupt JPEG: end-of-image marker before any image data".into()),
            // Markers without a length field.
            0x01 | 0xD0..=0xD7 => {
                i += 2;
                continue;
            }
            _ => {}
        }
        if i + 3 >= b.len() {
            return Err(TRUNCATED.into());
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        if len < 2 {
            return Err(format!("corrupt JPEG: bad segment length at byte {i}"));
        }
        let next = i + 2 + len;
        if marker == 0xDA {
            let scan = b.get(next..).ok_or(TRUNCATED)?;
            return if scan.windows(2).any(|w| w == [0xFF, 0xD9]) {
                Ok(())
            } else {
                Err(TRUNCATED.into())
            };
        }
        if next > b.len() {
            return Err(TRUNCATED.into());
        }
        i = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, Rgb};

    fn jpeg_bytes(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x * 7) as u8, (y * 5) as u8, 90]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)
            .unwrap();
        out
    }

    #[test]
    fn complete_jpeg_passes_the_check() {
        let b = jpeg_bytes(40, 30);
        check_jpeg_complete(&b).unwrap();
        let mut trailing = b.clone();
        trailing.extend_from_slice(b"trailing bytes after EOI");
        check_jpeg_complete(&trailing).unwrap();
    }

    #[test]
    fn truncated_jpeg_fails_the_check_at_every_cut() {
        let b = jpeg_bytes(40, 30);
        for cut in [3, 10, 100, b.len() / 2, b.len() - 2, b.len() - 1] {
            let err = check_jpeg_complete(&b[..cut]).unwrap_err();
            assert!(
                err.contains("truncated") || err.contains("corrupt"),
                "{cut}: {err}"
            );
        }
    }

    #[test]
    fn unknown_format_is_named() {
        let err = decode_bytes(b"hello, not an image", Path::new("x/notes.jpg")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x/notes.jpg: cannot decode image"), "{msg}");
        assert!(msg.contains("unrecognised image format"), "{msg}");
        let err = decode_bytes(b"", Path::new("empty.jpg")).unwrap_err();
        assert!(err.to_string().contains("empty.jpg"));
    }

    #[test]
    fn too_many_pixels_are_refused_before_decoding() {
        // 100,000 x 100,000 RGB would be 30 GB decoded.
        let bomb = paws_testkit::images::huge_png(100_000, 100_000);
        let probe = probe_bytes(&bomb, Path::new("bomb.png")).unwrap();
        assert_eq!(
            (probe.format, probe.width, probe.height),
            (ImageFormat::Png, 100_000, 100_000)
        );
        let err = decode_bytes_within(&bomb, Path::new("bomb.png"), 50_000_000).unwrap_err();
        assert!(
            matches!(err, VisionError::TooLarge { width: 100_000, .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains("more than the 50000000 allowed"),
            "{err}"
        );
    }

    #[test]
    fn a_small_image_decodes_within_the_bound() {
        let b = jpeg_bytes(40, 30);
        let img = decode_bytes_within(&b, Path::new("ok.jpg"), 40 * 30).unwrap();
        assert_eq!(img.dimensions(), (40, 30));
        let err = decode_bytes_within(&b, Path::new("ok.jpg"), 40 * 30 - 1).unwrap_err();
        assert!(matches!(err, VisionError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn formats_paws_does_not_read_are_unknown() {
        // A TIFF header: the image crate recognises it, but paws builds no TIFF decoder.
        let err = probe_bytes(b"II*\0\x08\0\0\0rest", Path::new("scan.tif")).unwrap_err();
        assert!(matches!(err, VisionError::UnknownFormat { .. }), "{err}");
    }
}
