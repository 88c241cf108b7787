//! Dev benchmark: images/s of decoding + preprocessing, of inference alone, and of
//! `extract_folder` on 1 and on 2 rayon threads, interleaved over rounds (medians), so
//! that the ratios hold on a shared machine.
//!
//! cargo run --release -p paws-vision --example bench_extract -- MODEL.onnx FOLDER [N] [ROUNDS]

use paws_vision::{decode_file, extract_folder, list_files, preprocess, Extractor, ModelOptions};
use std::path::Path;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model, folder) = match &args[..] {
        [m, f, ..] => (Path::new(m), Path::new(f)),
        _ => return Err("usage: bench_extract MODEL.onnx FOLDER [N] [ROUNDS]".into()),
    };
    let n: usize = args.get(2).map_or(Ok(60), |s| s.parse())?;
    let rounds: usize = args.get(3).map_or(Ok(3), |s| s.parse())?;
    let ex = Extractor::load(model, ModelOptions::default())?;
    let files: Vec<_> = list_files(folder)?.into_iter().take(n).collect();
    let sub = tempfile::tempdir()?;
    for f in &files {
        std::fs::copy(f, sub.path().join(f.file_name().unwrap()))?;
    }
    let inputs: Vec<Vec<f32>> = files
        .iter()
        .map(|f| Ok(preprocess(&decode_file(f)?, ex.input_size())))
        .collect::<paws_vision::Result<_>>()?;
    let pool = |t| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
    };
    let (p1, p2) = (pool(1), pool(2));
    let (mut dec, mut inf, mut e1, mut e2) = (vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        let t = Instant::now();
        for f in &files {
            std::hint::black_box(preprocess(&decode_file(f)?, ex.input_size()));
        }
        dec.push(files.len() as f64 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        for x in &inputs {
            std::hint::black_box(ex.run(x, "bench")?);
        }
        inf.push(files.len() as f64 / t.elapsed().as_secs_f64());
        for (p, out) in [(&p1, &mut e1), (&p2, &mut e2)] {
            let t = Instant::now();
            p.install(|| extract_folder(sub.path(), &ex, true, &|_, _| {}))?;
            out.push(files.len() as f64 / t.elapsed().as_secs_f64());
        }
    }
    println!(
        "{} images, {rounds} rounds, medians in images/s: decode+preprocess {:.1}, inference (1 thread) {:.1}, extract_folder 1 thread {:.1}, 2 threads {:.1} ({:.2}x)",
        files.len(),
        median(dec),
        median(inf),
        median(e1.clone()),
        median(e2.clone()),
        median(e2) / median(e1)
    );
    Ok(())
}
