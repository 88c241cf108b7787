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

/// Rows where lines coincide: two comparisons at 100 % at every split, and all three
/// baselines at 50 %.
fn coinciding_rows() -> Vec<paws_core::experiment::results::ResultRow> {
    let mut rows = Vec::new();
    for i in 0..9 {
        let split = (i + 1) as f64 / 10.0;
        for (c1, c2, pct) in [
            ("Bengal", "beagle", 100.0),
            ("Bengal", "pug", 100.0),
            ("beagle", "pug", 80.0 + i as f64),
        ] {
            let mut r = common::row(c1, c2, split, i + 1, pct);
            r.majority_pct = 50.0;
            rows.push(r);
        }
    }
    rows
}

#[test]
fn lines_with_equal_values_are_all_visible() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accuracy.png");
    let rows = coinciding_rows();
    plot_accuracy(&path, &rows, "all pairs").unwrap();
    if let Ok(check) = std::env::var("PAWS_PLOT_CHECK_PAIRS") {
        fs::copy(&path, check).unwrap();
    }
    let image = image::load_from_memory(&fs::read(&path).unwrap())
        .unwrap()
        .to_rgb8();
    // The plot area only (the legend, on the right, shows every colour anyway).
    let count = |colour: [u8; 3], ys: std::ops::Range<u32>| {
        ys.flat_map(|y| (80..580).map(move |x| (x, y)))
            .filter(|&(x, y)| image.get_pixel(x, y).0 == colour)
            .count()
    };
    let (blue, orange, green) = ([31, 119, 180], [255, 127, 14], [44, 160, 44]);
    // Both 100 % lines show near the top, and every baseline near 50 %: the upper and
    // lower halves of the plot area.
    let (top, bottom) = (40..300, 300..560);
    for (name, colour) in [("first", blue), ("second", orange)] {
        let n = count(colour, top.clone());
        assert!(n > 100, "{name} 100 % line: {n} pixels");
    }
    for (name, colour) in [("first", blue), ("second", orange), ("third", green)] {
        let n = count(colour, bottom.clone());
        assert!(n > 50, "{name} baseline: {n} pixels");
    }
}
