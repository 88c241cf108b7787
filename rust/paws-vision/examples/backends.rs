//! Dev measurement for issue 13: `extract_folder` (decode, preprocess, inference) in
//! images/s with tract and with onnxruntime in two thread layouts (one session per
//! rayon thread with 1 intra-op thread each, or one session with all threads as
//! intra-op threads), interleaved over rounds so that ratios hold on a shared machine.
//!
//! ORT_DYLIB_PATH=.../libonnxruntime.so.1.x \
//! cargo run --release -p paws-vision --features onnxruntime --example backends -- MODEL.onnx FOLDER [ROUNDS]

use paws_vision::{extract_folder, Backend, Extractor, ModelOptions, OnnxRuntimeOptions};
use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model, folder) = match &args[..] {
        [m, f, ..] => (Path::new(m), Path::new(f)),
        _ => return Err("usage: backends MODEL.onnx FOLDER [ROUNDS]".into()),
    };
    let rounds: usize = args.get(2).map_or(Ok(2), |s| s.parse())?;
    let threads = rayon::current_num_threads();
    let ort = |sessions, intra_threads| {
        Backend::OnnxRuntime(OnnxRuntimeOptions {
            sessions,
            intra_threads,
            ..OnnxRuntimeOptions::default()
        })
    };
    let configs = [
        ("tract".to_string(), Backend::Tract),
        (
            format!("onnxruntime, {threads} sessions x 1 intra-op thread"),
            ort(threads, 1),
        ),
        (
            format!("onnxruntime, 1 session x {threads} intra-op threads"),
            ort(1, threads),
        ),
    ];
    let extractors = configs
        .iter()
        .map(|(_, b)| Extractor::load_with(model, ModelOptions::default(), b))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rates = vec![vec![]; configs.len()];
    for _ in 0..rounds {
        for (ex, r) in extractors.iter().zip(&mut rates) {
            let t = Instant::now();
            let out = extract_folder(folder, ex, true, &|_, _| {})?;
            r.push(out.dataset.len() as f64 / t.elapsed().as_secs_f64());
        }
    }
    for ((name, _), r) in configs.iter().zip(rates) {
        println!("{name}: images/s per round {r:.1?} ({threads} rayon threads)");
    }
    Ok(())
}
