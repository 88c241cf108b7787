//! Dev tool: writes the preprocessed input tensor of one image and the model's outputs
//! as raw little-endian f32, for comparison with another runtime
//! (tools/check_tract_vs_onnxruntime.py).
//!
//! cargo run --release -p paws-vision --example dump_tensors -- MODEL.onnx IMAGE OUT_DIR

use paws_vision::{decode_file, preprocess, Extractor, ModelOptions};
use std::path::Path;

fn write_f32(path: &Path, values: &[f32]) -> std::io::Result<()> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, image, out] = &args[..] else {
        return Err("usage: dump_tensors MODEL.onnx IMAGE OUT_DIR".into());
    };
    let ex = Extractor::load(Path::new(model), ModelOptions::default())?;
    let input = preprocess(&decode_file(Path::new(image))?, ex.input_size());
    let t = std::time::Instant::now();
    let result = ex.run(&input, image)?;
    eprintln!("one run: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let out = Path::new(out);
    std::fs::create_dir_all(out)?;
    write_f32(&out.join("input.f32"), &input)?;
    write_f32(&out.join("features.f32"), &result.features)?;
    if let Some(l) = &result.logits {
        write_f32(&out.join("logits.f32"), l)?;
    }
    println!("{}", out.display());
    Ok(())
}
