mod common;

use std::collections::HashSet;
use std::fs;

use common::realistic_rows;
use paws_report::{plot_accuracy, PLOT_HEIGHT, PLOT_WIDTH};

/// Width and height from the PNG signature and IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[test]
fn plot_is_a_png_of_the_expected_size_with_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accuracy.png");
    plot_accuracy(
        &path,
        &realistic_rows(),
        "SVMWithSGD: test accuracy by train split",
    )
    .unwrap();

    let bytes = fs::read(&path).unwrap();
    assert_eq!(png_size(&bytes), (PLOT_WIDTH, PLOT_HEIGHT));
    assert_eq!((PLOT_WIDTH, PLOT_HEIGHT), (1000, 600));

    let image = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), (1000, 600));
    // The plot area (inside the axes) holds lines in several colours, not just white.
    let colours: HashSet<[u8; 3]> = (150..500)
        .flat_map(|y| (100..700).map(move |x| (x, y)))
        .map(|(x, y)| image.get_pixel(x, y).0)
        .collect();
    assert!(colours.len() > 8, "only {} colours", colours.len());
    // Title text is drawn (dark pixels in the top band).
    let dark_in_title = (0..30)
        .flat_map(|y| (0..1000).map(move |x| (x, y)))
        .filter(|&(x, y)| image.get_pixel(x, y).0.iter().all(|&c| c < 100))
        .count();
    assert!(
        dark_in_title > 100,
        "{dark_in_title} dark pixels in the title band"
    );

    let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temp file left behind");
}

#[test]
fn plot_without_rows_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.png");
    let err = plot_accuracy(&path, &[], "t").unwrap_err();
    assert!(err.to_string().contains(&path.display().to_string()));
    assert!(!path.exists());
}

#[test]
fn plot_into_unwritable_directory_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    fs::write(&blocker, b"x").unwrap();
    let path = blocker.join("accuracy.png");
    let err = plot_accuracy(&path, &realistic_rows(), "t").unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}
