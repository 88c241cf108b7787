//! The tract backend: the model as one optimised plan for a batch of 1, shared by all
//! threads ([`TractEngine::run`] takes `&self`; each run has its own scratch state).
//!
//! Measured on 2 cores (issue 13, EfficientNet-Lite0, 600 preprocessed photos, rayon
//! over images or batches): batch 1 ~30 images/s, a plan for batch 4 ~16, batch 8 ~15;
//! the plan option `skip_order_opt_ram` changes nothing. Batch 1 stays.

use super::{Loaded, Request};
use crate::error::{Result, VisionError};
use crate::extractor::MODEL_ID_KEY;
use std::sync::Arc;
use tract_onnx::prelude::*;

#[derive(Debug, Clone)]
pub(crate) struct TractEngine {
    plan: Arc<TypedRunnableModel>,
}

pub(crate) fn load(bytes: &[u8], request: &Request) -> Result<Loaded> {
    let path = request.path;
    let err = |e: TractError| VisionError::model(path, format!("{e:#}"));
    let mut model = tract_onnx::onnx()
        .model_for_read(&mut std::io::Cursor::new(bytes))
        .map_err(err)?;
    let metadata_id = model
        .properties
        .get(&format!("onnx.metadata_props.{MODEL_ID_KEY}"))
        .and_then(|t| {
            t.try_as_plain_ram()
                .ok()?
                .to_scalar::<String>()
                .ok()
                .cloned()
        });
    if model.input_outlets().map_err(err)?.len() != 1 {
        return Err(VisionError::model(
            path,
            "the model must have exactly one input",
        ));
    }
    let s = request.input_size;
    model
        .set_input_fact(
            0,
            InferenceFact::dt_shape(f32::datum_type(), tvec!(1, 3, s, s)),
        )
        .map_err(err)?;
    let outputs = request.outputs;
    model.select_outputs_by_name(outputs).map_err(|e| {
        VisionError::model(
            path,
            format!(
                "output(s) {outputs:?} not found ({e:#}); set the output names in ModelOptions"
            ),
        )
    })?;
    let model = model.into_optimized().map_err(err)?;
    let widths = (0..outputs.len())
        .map(|ix| {
            let fact = model.output_fact(ix).map_err(err)?;
            let shape = fact.shape.as_concrete().ok_or_else(|| {
                VisionError::model(path, format!("output '{}' has no fixed shape", outputs[ix]))
            })?;
            let n: usize = shape.iter().product();
            if fact.datum_type != f32::datum_type() || n == 0 || shape.first() != Some(&1) {
                return Err(VisionError::model(
                    path,
                    format!(
                        "output '{}' is {:?} {shape:?}; expected float32 [1, d]",
                        outputs[ix], fact.datum_type
                    ),
                ));
            }
            Ok(n)
        })
        .collect::<Result<_>>()?;
    let plan = model.into_runnable().map_err(err)?;
    Ok(Loaded {
        engine: super::Engine::Tract(TractEngine { plan }),
        metadata_id,
        widths,
    })
}

impl TractEngine {
    pub(crate) fn run(&self, input: &[f32], s: usize) -> Result<Vec<Vec<f32>>, String> {
        let tensor = Tensor::from_shape(&[1, 3, s, s], input).map_err(|e| format!("{e:#}"))?;
        let outputs = self
            .plan
            .run(tvec!(tensor.into_tvalue()))
            .map_err(|e| format!("{e:#}"))?;
        outputs
            .iter()
            .map(|v| {
                v.try_as_plain_ram()
                    .and_then(|v| v.as_slice::<f32>().map(<[f32]>::to_vec))
                    .map_err(|e| format!("{e:#}"))
            })
            .collect()
    }
}
