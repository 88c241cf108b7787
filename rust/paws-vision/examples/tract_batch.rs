//! Dev measurement for issue 13: tract's inference throughput with a plan built for a
//! batch of B images (rayon over batches) against the batch-1 plan (rayon over images),
//! on preprocessed photos (decoding and preprocessing excluded), interleaved over rounds.
//!
//! cargo run --release -p paws-vision --example tract_batch -- MODEL.onnx FOLDER [N] [ROUNDS] [B...]

use paws_vision::{decode_file, list_files, preprocess};
use rayon::prelude::*;
use std::path::Path;
use std::time::Instant;
use tract_onnx::prelude::*;

fn plan(
    model: &Path,
    batch: usize,
    skip_order_opt_ram: bool,
) -> TractResult<Arc<TypedRunnableModel>> {
    let mut m = tract_onnx::onnx().model_for_path(model)?;
    m.set_input_fact(0, f32::fact([batch, 3, 224, 224]).into())?;
    m.select_outputs_by_name(["features"])?;
    let m = m.into_optimized()?;
    m.into_runnable_with_options(&RunOptions {
        skip_order_opt_ram,
        ..RunOptions::default()
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model, folder) = (Path::new(&args[0]), Path::new(&args[1]));
    let n: usize = args.get(2).map_or(Ok(600), |s| s.parse())?;
    let rounds: usize = args.get(3).map_or(Ok(2), |s| s.parse())?;
    let batches: Vec<usize> = if args.len() > 4 {
        args[4..]
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()?
    } else {
        vec![1, 4, 8]
    };
    let files: Vec<_> = list_files(folder)?.into_iter().take(n).collect();
    let inputs: Vec<Vec<f32>> = files
        .par_iter()
        .map(|f| Ok(preprocess(&decode_file(f)?, 224)))
        .collect::<paws_vision::Result<_>>()?;
    let mut configs = vec![];
    for &b in &batches {
        configs.push((format!("batch {b}"), b, plan(model, b, false)?));
    }
    configs.push((
        "batch 1, skip_order_opt_ram".into(),
        1,
        plan(model, 1, true)?,
    ));
    let mut results = vec![vec![]; configs.len()];
    for _ in 0..rounds {
        for (i, (_, b, p)) in configs.iter().enumerate() {
            let t = Instant::now();
            inputs
                .par_chunks(*b)
                .try_for_each(|chunk| -> TractResult<()> {
                    let mut data = Vec::with_capacity(chunk.len() * 3 * 224 * 224);
                    for x in chunk {
                        data.extend_from_slice(x);
                    }
                    // A short last chunk is padded to the plan's batch.
                    data.resize(b * 3 * 224 * 224, 0.0);
                    let t = Tensor::from_shape(&[*b, 3, 224, 224], &data)?;
                    std::hint::black_box(p.run(tvec!(t.into_tvalue()))?);
                    Ok(())
                })?;
            results[i].push(inputs.len() as f64 / t.elapsed().as_secs_f64());
        }
    }
    for ((name, _, _), r) in configs.iter().zip(results) {
        println!(
            "{name}: {} images, {} rayon threads, inference images/s per round {r:.1?}",
            inputs.len(),
            rayon::current_num_threads()
        );
    }
    Ok(())
}
