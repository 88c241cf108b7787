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

use crate::error::{Result, VisionError};
use image::{ImageFormat, ImageReader, RgbImage};
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
    if bytes.is_empty() {
        return Err(VisionError::decode(name, "the file is empty"));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| VisionError::decode(name, e.to_string()))?;
    let format = reader.format().ok_or_else(|| {
        VisionError::decode(
            name,
            "unrecognised image format (not JPEG, PNG, GIF, BMP or WebP)",
        )
    })?;
    if format == ImageFormat::Jpeg {
        check_jpeg_complete(bytes).map_err(|m| VisionError::decode(name, m))?;
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
}
