//! paws-jni: the only JNI boundary of paws.
//!
//! Static native methods of the Java class `dev.paws.spark.NativeKernels` (see
//! `jvm-shim/src/main/java/dev/paws/spark/NativeKernels.java`, which documents each
//! one for Java callers). The functions here only check arguments, read Java arrays in
//! place and call paws-core: the numerics (gradient chunks, exact sums, MLlib's SGD
//! loop, evaluation) are the same code the in-process engine runs, so the Spark engine
//! gives the same weights bit for bit.
//!
//! Every export runs inside [`guard::run`]: Rust errors and panics come out as Java
//! exceptions with the message, never as a crashed JVM.

mod arrays;
mod experiment;
mod experiment_jni;
mod extract_jni;
mod guard;
mod handles;
mod selected;
mod sweep_jni;

use arrays::{length, new_double_array, new_long_array, optional_length, pin_optional, Critical};
use guard::{invalid, Error, Result};
use jni::objects::{JClass, JDoubleArray, JFloatArray, JIntArray, JLongArray, JString};
use jni::sys::{
    jboolean, jdouble, jdoubleArray, jint, jlong, jlongArray, jstring, JNI_FALSE, JNI_TRUE,
    JNI_VERSION_1_8,
};
use jni::JNIEnv;
use paws_core::blocks::{self, RowBlock, RowIndex};
use paws_core::exact_sum::GradientSum;
use paws_core::gradient::{KernelWeights, LossKind};
use paws_core::model::LinearModel;
use paws_core::sgd::{self, Sgd, SgdParams};
use paws_core::source::InMemorySource;
use paws_core::standardize::{FeatureMap, Scaling};
use std::os::raw::c_void;

/// Loss codes shared with `NativeKernels.LOSS_HINGE` / `LOSS_LOGISTIC`.
fn loss_kind(code: jint) -> Result<LossKind> {
    match code {
        0 => Ok(LossKind::Hinge),
        1 => Ok(LossKind::Logistic),
        _ => invalid(format!(
            "loss must be 0 (hinge) or 1 (logistic), got {code}"
        )),
    }
}

fn positive(v: jint, what: &str) -> Result<usize> {
    if v <= 0 {
        return invalid(format!("{what} must be positive, got {v}"));
    }
    Ok(v as usize)
}

fn bool_of(b: jboolean) -> bool {
    b != JNI_FALSE
}

fn jbool(b: bool) -> jboolean {
    if b {
        JNI_TRUE
    } else {
        JNI_FALSE
    }
}

fn string_arg(env: &mut JNIEnv, s: &JString, what: &str) -> Result<String> {
    if s.is_null() {
        return invalid(format!("{what} must not be null"));
    }
    Ok(env.get_string(s)?.into())
}

fn params_arg(env: &mut JNIEnv, json: &JString) -> Result<SgdParams> {
    let text = string_arg(env, json, "paramsJson")?;
    let params: SgdParams = serde_json::from_str(&text)
        .map_err(|e| Error::Invalid(format!("paramsJson: {e}: {text}")))?;
    params.validate()?;
    Ok(params)
}

/// Checks the shape of a block from array lengths alone (before pinning anything).
fn block_rows(n_values: usize, dim: usize, n_labels: Option<usize>) -> Result<usize> {
    if n_values % dim != 0 {
        return invalid(format!(
            "rows has {n_values} values, not a multiple of dim {dim}"
        ));
    }
    let n = n_values / dim;
    if let Some(l) = n_labels {
        if l != n {
            return invalid(format!(
                "labels has {l} values for {n} rows (rows has {n_values} values, dim {dim})"
            ));
        }
    }
    Ok(n)
}

/// `JNI_OnLoad`: installs the panic hook as soon as the library is loaded.
#[no_mangle]
pub extern "system" fn JNI_OnLoad(_vm: *mut jni::sys::JavaVM, _reserved: *mut c_void) -> jint {
    guard::install_panic_hook();
    JNI_VERSION_1_8
}

/// `String nativeVersion()`: the crate version and the numeric contract it implements.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_nativeVersion<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
) -> jstring {
    guard::run(&mut env, "nativeVersion", |env| {
        let s = format!(
            "paws-jni {} (chunk rows {})",
            env!("CARGO_PKG_VERSION"),
            paws_core::source::CHUNK_ROWS
        );
        Ok(env.new_string(s)?.into_raw())
    })
}

/// `long[] gradientBlock(int loss, float[] rows, int dim, double[] labels,
/// double[] rowWeights, long firstRow, long[] rowIndex, double[] kernelV,
/// double offset, int iteration, double fraction)`
///
/// The exact gradient sum (`GradientSum::to_words`) of one block for one model. Rows
/// are the global dataset rows `firstRow, firstRow + 1, …`, or, when `rowIndex` is
/// not null, `rowIndex[i]` (strictly ascending; then `firstRow` must be -1).
/// `rowWeights` may be null (MLlib's weight 1.0).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_gradientBlock<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    loss: jint,
    rows: JFloatArray<'l>,
    dim: jint,
    labels: JDoubleArray<'l>,
    row_weights: JDoubleArray<'l>,
    first_row: jlong,
    row_index: JLongArray<'l>,
    kernel_v: JDoubleArray<'l>,
    offset: jdouble,
    iteration: jint,
    fraction: jdouble,
) -> jlongArray {
    guard::run(&mut env, "gradientBlock", |env| {
        let kind = loss_kind(loss)?;
        let dim = positive(dim, "dim")?;
        let iteration = u32::try_from(iteration)
            .map_err(|_| Error::Invalid(format!("iteration must be >= 0, got {iteration}")))?;
        // Every length, and the small kernel weights, before anything is pinned.
        let n_values = length(env, &rows, "rows")?;
        let n_labels = length(env, &labels, "labels")?;
        let n = block_rows(n_values, dim, Some(n_labels))?;
        let n_weights = optional_length(env, &row_weights, "rowWeights")?;
        if let Some(w) = n_weights.filter(|&w| w != n) {
            return invalid(format!("rowWeights has {w} values for {n} rows"));
        }
        let n_index = optional_length(env, &row_index, "rowIndex")?;
        match n_index {
            Some(k) if k != n => {
                return invalid(format!("rowIndex has {k} values for {n} rows"));
            }
            Some(_) if first_row != -1 => {
                return invalid(format!(
                    "firstRow must be -1 when rowIndex is given, got {first_row}"
                ));
            }
            None if first_row < 0 => {
                return invalid(format!("firstRow must be >= 0, got {first_row}"));
            }
            _ => {}
        }
        let v = arrays::read_doubles(env, &kernel_v, "kernelV")?;
        if v.len() != dim {
            return invalid(format!("kernelV has {} values for dim {dim}", v.len()));
        }
        if !offset.is_finite() {
            return invalid(format!("offset must be finite, got {offset}"));
        }
        let w = KernelWeights { v, offset };
        let sum = {
            // Safety: all lengths were read above; no JNI call until the guards drop.
            let rows = unsafe { Critical::pin(env, &rows, n_values)? };
            let labels = unsafe { Critical::pin(env, &labels, n_labels)? };
            let weights = unsafe { pin_optional(env, &row_weights, n_weights)? };
            let index = unsafe { pin_optional(env, &row_index, n_index)? };
            let index = match &index {
                // i64 and u64 have one layout; RowBlock rejects values above i64::MAX,
                // that is negative Java longs.
                Some(ix) => RowIndex::Listed(unsafe {
                    std::slice::from_raw_parts(ix.as_ptr() as *const u64, ix.len())
                }),
                None => RowIndex::Consecutive(first_row as u64),
            };
            let block = RowBlock::new(&rows, dim, index)?;
            blocks::block_gradient_sum(
                kind,
                &block,
                &labels,
                weights.as_deref(),
                &w,
                iteration,
                fraction,
            )?
        };
        new_long_array(env, &sum.to_words())
    })
}

/// `long[] mergeSums(long[] a, long[] b)`: the sum of two gradient sums (exact, so
/// any order of merging gives the same result). Neither input is modified.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_mergeSums<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    a: JLongArray<'l>,
    b: JLongArray<'l>,
) -> jlongArray {
    guard::run(&mut env, "mergeSums", |env| {
        let (na, nb) = (length(env, &a, "a")?, length(env, &b, "b")?);
        if na != nb {
            return invalid(format!("sums of different lengths: {na} and {nb}"));
        }
        let merged = {
            let (pa, pb) = unsafe { (Critical::pin(env, &a, na)?, Critical::pin(env, &b, nb)?) };
            let mut sa = sum_of_words(&pa, "a")?;
            let sb = sum_of_words(&pb, "b")?;
            sa.merge(&sb);
            sa
        };
        new_long_array(env, &merged.to_words())
    })
}

fn sum_of_words(words: &[i64], what: &str) -> Result<GradientSum> {
    GradientSum::from_words(words).ok_or_else(|| {
        Error::Invalid(format!(
            "{what} is not a gradient sum: {} words (expected 2·(dim+1) + 4, at least 6)",
            words.len()
        ))
    })
}

/// `long sgdCreate(String paramsJson, int dim, boolean intercept, double[] scalingMean,
/// double[] scalingInvStd, double[] initialWeights)`: a new driver-side SGD state
/// (MLlib's `runMiniBatchSGD` loop). `paramsJson` is `SgdParams` as JSON; the scaling
/// arrays are both null or both `dim` long; `initialWeights` is null or
/// `dim + (intercept ? 1 : 0)` long (model space, intercept last).
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sgdCreate<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    params_json: JString<'l>,
    dim: jint,
    intercept: jboolean,
    scaling_mean: JDoubleArray<'l>,
    scaling_inv_std: JDoubleArray<'l>,
    initial_weights: JDoubleArray<'l>,
) -> jlong {
    guard::run(&mut env, "sgdCreate", |env| {
        let params = params_arg(env, &params_json)?;
        let dim = positive(dim, "dim")?;
        let mean = arrays::read_optional_doubles(env, &scaling_mean, "scalingMean")?;
        let inv_std = arrays::read_optional_doubles(env, &scaling_inv_std, "scalingInvStd")?;
        let scaling = match (mean, inv_std) {
            (None, None) => None,
            (Some(mean), Some(inv_std)) => {
                if mean.len() != dim || inv_std.len() != dim {
                    return invalid(format!(
                        "scalingMean has {} and scalingInvStd {} values for dim {dim}",
                        mean.len(),
                        inv_std.len()
                    ));
                }
                if mean.iter().chain(&inv_std).any(|v| !v.is_finite()) {
                    return invalid("scaling statistics must be finite");
                }
                Some(Scaling { mean, inv_std })
            }
            _ => return invalid("scalingMean and scalingInvStd must both be null or both given"),
        };
        let initial = arrays::read_optional_doubles(env, &initial_weights, "initialWeights")?;
        if let Some(w) = &initial {
            if w.iter().any(|v| !v.is_finite()) {
                return invalid("initialWeights must be finite");
            }
        }
        let map = FeatureMap {
            dim,
            intercept: bool_of(intercept),
            scaling,
        };
        let sgd = Sgd::new(params, map, initial)?;
        Ok(handles::insert(sgd))
    })
}

/// `double[] sgdKernelWeights(long h)`: what the next pass's kernel applies to raw rows,
/// `v` (dim values) then the offset.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sgdKernelWeights<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jdoubleArray {
    guard::run(&mut env, "sgdKernelWeights", |env| {
        let out = handles::with(h, |s| {
            let k = s.kernel_weights();
            Ok(k.v.into_iter().chain([k.offset]).collect::<Vec<f64>>())
        })?;
        new_double_array(env, &out)
    })
}

/// `int sgdIteration(long h)`: the iteration (from 1) the next pass serves.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sgdIteration<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jint {
    guard::run(&mut env, "sgdIteration", |_| {
        handles::with(h, |s| Ok(s.iteration().min(i32::MAX as u32) as jint))
    })
}

/// `boolean sgdIsDone(long h)`: converged, or past MLlib's final loss-only pass.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sgdIsDone<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jboolean {
    guard::run(&mut env, "sgdIsDone", |_| {
        handles::with(h, |s| Ok(jbool(s.is_done())))
    })
}

/// `boolean sgdConverged(long h)`.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sgdConverged<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jboolean {
    guard::run(&mut env, "sgdConverged", |_| {
        handles::with(h, |s| Ok(jbool(s.converged())))
    })
}

/// `int sgdUpdates(long h)`: weight updates applied so far.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sgdUpdates<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jint {
    guard::run(&mut env, "sgdUpdates", |_| {
        handles::with(h, |s| Ok(s.updates().min(i32::MAX as u32) as jint))
    })
}

/// `void sgdApply(long h, long[] sumWords)`: one pass's gradient sum (from
/// `gradientBlock` / `mergeSums`) applied with MLlib's updater and convergence test.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sgdApply<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    sum_words: JLongArray<'l>,
) {
    guard::run(&mut env, "sgdApply", |env| {
        let n = length(env, &sum_words, "sumWords")?;
        let mut words = vec![0i64; n];
        env.get_long_array_region(&sum_words, 0, &mut words)?;
        let sum = sum_of_words(&words, "sumWords")?;
        handles::with(h, |s| Ok(s.apply(&sum)?))
    })
}

/// `double[] sgdWeights(long h)`: model-space weights (intercept last when fitted).
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sgdWeights<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jdoubleArray {
    guard::run(&mut env, "sgdWeights", |env| {
        let w = handles::with(h, |s| Ok(s.weights().to_vec()))?;
        new_double_array(env, &w)
    })
}

/// `double[] sgdLossHistory(long h)`: MLlib's `stochasticLossHistory`.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sgdLossHistory<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jdoubleArray {
    guard::run(&mut env, "sgdLossHistory", |env| {
        let l = handles::with(h, |s| Ok(s.loss_history().to_vec()))?;
        new_double_array(env, &l)
    })
}

/// `double[] sgdRawModel(long h)`: weights that apply to raw features (`dim` values)
/// then the intercept: what an MLlib model holds.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sgdRawModel<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jdoubleArray {
    guard::run(&mut env, "sgdRawModel", |env| {
        let out = handles::with(h, |s| {
            let (w, b) = s.feature_map().raw_model(s.weights());
            Ok(w.into_iter().chain([b]).collect::<Vec<f64>>())
        })?;
        new_double_array(env, &out)
    })
}

/// `boolean sgdFree(long h)`: frees the state; false (no exception) when the handle
/// was not live, so it is safe in a `finally`.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sgdFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jboolean {
    guard::run(&mut env, "sgdFree", |_| Ok(jbool(handles::remove(h))))
}

/// `int sgdLiveHandles()`: SGD states not yet freed (for leak checks).
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sgdLiveHandles<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
) -> jint {
    guard::run(&mut env, "sgdLiveHandles", |_| {
        Ok(handles::live().min(i32::MAX as usize) as jint)
    })
}

fn model_arg(
    env: &JNIEnv,
    loss: jint,
    weights: &JDoubleArray,
    intercept: jdouble,
    threshold: jdouble,
    dim: usize,
) -> Result<LinearModel> {
    let kind = loss_kind(loss)?;
    let weights = arrays::read_doubles(env, weights, "weights")?;
    if weights.len() != dim {
        return invalid(format!(
            "weights has {} values for dim {dim}",
            weights.len()
        ));
    }
    Ok(LinearModel {
        kind,
        weights,
        intercept,
        threshold,
    })
}

/// `double[] predictBlock(int loss, float[] rows, int dim, double[] weights,
/// double intercept, double threshold)`: MLlib's `predict` for each row: 0.0 or 1.0,
/// or, with a NaN threshold (MLlib's `clearThreshold`), the score: the margin for
/// hinge, the probability for logistic.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_predictBlock<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    loss: jint,
    rows: JFloatArray<'l>,
    dim: jint,
    weights: JDoubleArray<'l>,
    intercept: jdouble,
    threshold: jdouble,
) -> jdoubleArray {
    guard::run(&mut env, "predictBlock", |env| {
        let dim = positive(dim, "dim")?;
        let n_values = length(env, &rows, "rows")?;
        block_rows(n_values, dim, None)?;
        let model = model_arg(env, loss, &weights, intercept, threshold, dim)?;
        let out = {
            let rows = unsafe { Critical::pin(env, &rows, n_values)? };
            let block = RowBlock::new(&rows, dim, RowIndex::Consecutive(0))?;
            if threshold.is_nan() {
                blocks::block_scores(&model, &block)?
            } else {
                blocks::block_predictions(&model, &block)?
                    .into_iter()
                    .map(f64::from)
                    .collect()
            }
        };
        new_double_array(env, &out)
    })
}

/// `long[] confusionBlock(int loss, float[] rows, int dim, double[] labels,
/// double[] weights, double intercept, double threshold)`: `{tp, fp, tn, fn}` of the
/// model on the block's rows (labels 0/1).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_confusionBlock<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    loss: jint,
    rows: JFloatArray<'l>,
    dim: jint,
    labels: JDoubleArray<'l>,
    weights: JDoubleArray<'l>,
    intercept: jdouble,
    threshold: jdouble,
) -> jlongArray {
    guard::run(&mut env, "confusionBlock", |env| {
        let dim = positive(dim, "dim")?;
        let n_values = length(env, &rows, "rows")?;
        let n_labels = length(env, &labels, "labels")?;
        block_rows(n_values, dim, Some(n_labels))?;
        if threshold.is_nan() {
            return invalid("threshold must not be NaN for a confusion matrix");
        }
        let model = model_arg(env, loss, &weights, intercept, threshold, dim)?;
        let c = {
            let rows = unsafe { Critical::pin(env, &rows, n_values)? };
            let labels = unsafe { Critical::pin(env, &labels, n_labels)? };
            let block = RowBlock::new(&rows, dim, RowIndex::Consecutive(0))?;
            blocks::block_confusion(&model, &block, &labels)?
        };
        let counts = [c.tp, c.fp, c.tn, c.fn_].map(|v| v as i64);
        new_long_array(env, &counts)
    })
}

/// `double[] trainLocal(String paramsJson, float[] rows, int dim, double[] labels,
/// boolean intercept, double[] initialWeights)`: the in-process engine
/// (`paws_core::sgd::train` over an `InMemorySource`, rows numbered from 0) on one
/// matrix; returns the raw model (`dim` weights, then the intercept). The arrays are
/// copied: training is too long for a critical region. For small data and for checking
/// that the Spark path gives the same weights.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_trainLocal<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    params_json: JString<'l>,
    rows: JFloatArray<'l>,
    dim: jint,
    labels: JDoubleArray<'l>,
    intercept: jboolean,
    initial_weights: JDoubleArray<'l>,
) -> jdoubleArray {
    guard::run(&mut env, "trainLocal", |env| {
        let params = params_arg(env, &params_json)?;
        let dim = positive(dim, "dim")?;
        let n_values = length(env, &rows, "rows")?;
        let n_labels = length(env, &labels, "labels")?;
        let n = block_rows(n_values, dim, Some(n_labels))?;
        if n > u32::MAX as usize {
            return invalid(format!("{n} rows is too many for trainLocal"));
        }
        let mut x = vec![0f32; n_values];
        env.get_float_array_region(&rows, 0, &mut x)?;
        let y = arrays::read_doubles(env, &labels, "labels")?;
        if let Some(i) = y.iter().position(|&v| v != 0.0 && v != 1.0) {
            return invalid(format!("label {} at row {i}: labels must be 0 or 1", y[i]));
        }
        let initial = arrays::read_optional_doubles(env, &initial_weights, "initialWeights")?;
        let map = FeatureMap {
            dim,
            intercept: bool_of(intercept),
            scaling: None,
        };
        let index: Vec<u32> = (0..n as u32).collect();
        let loss = params.loss;
        let source = InMemorySource::new(loss, &x, dim, &index, &y, None);
        let trained = sgd::train(&source, params, map.clone(), initial)?;
        let (w, b) = map.raw_model(&trained.weights);
        let out: Vec<f64> = w.into_iter().chain([b]).collect();
        new_double_array(env, &out)
    })
}

/// `void debugPanic(String message)`: panics in Rust (tests that a panic becomes a
/// `PawsNativeException` and the JVM lives on).
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_debugPanic<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    message: JString<'l>,
) {
    guard::run(&mut env, "debugPanic", |env| {
        let msg = string_arg(env, &message, "message")?;
        panic!("{msg}")
    })
}

/// `void debugError(String kind, String message)`: returns a Rust error of the given
/// kind: "invalid" (IllegalArgumentException), "io" (IOException), anything else
/// (PawsNativeException).
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_debugError<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    kind: JString<'l>,
    message: JString<'l>,
) {
    guard::run(&mut env, "debugError", |env| {
        let kind = string_arg(env, &kind, "kind")?;
        let msg = string_arg(env, &message, "message")?;
        let e = match kind.as_str() {
            "invalid" => paws_core::PawsError::invalid(msg),
            "io" => paws_core::PawsError::io(
                "debugError",
                std::io::Error::new(std::io::ErrorKind::NotFound, msg),
            ),
            _ => paws_core::PawsError::Overflow(msg),
        };
        Err(Error::from(e))
    })
}

/// The selection arguments of the `*Selected` kernels: lengths first (nothing pinned).
struct SelectionLengths {
    values: usize,
    rows: usize,
    labels: Option<usize>,
    weights: Option<usize>,
}

fn selection_lengths(
    env: &JNIEnv,
    rows: &JFloatArray,
    dim: usize,
    sel_rows: &JLongArray,
    sel_labels: Option<&JDoubleArray>,
    sel_weights: Option<&JDoubleArray>,
) -> Result<SelectionLengths> {
    let values = length(env, rows, "rows")?;
    block_rows(values, dim, None)?;
    Ok(SelectionLengths {
        values,
        rows: length(env, sel_rows, "selRows")?,
        labels: sel_labels
            .map(|l| length(env, l, "selLabels"))
            .transpose()?,
        weights: match sel_weights {
            Some(w) => optional_length(env, w, "selWeights")?,
            None => None,
        },
    })
}

/// `long[] gradientSelected(int loss, float[] rows, int dim, long firstRow,
/// long[] selRows, double[] selLabels, double[] selWeights, double[] kernelV,
/// double offset, int iteration, double fraction)`
///
/// The exact gradient sum of one model over the rows of a cached block (global rows
/// `firstRow, firstRow + 1, …`) that its selection holds: `selRows` is the model's whole
/// training set (strictly ascending global rows), `selLabels` their labels (0/1),
/// `selWeights` null or their weights. Rows of the selection outside the block are
/// ignored, so every block of the dataset gets the same broadcast arrays. The block must
/// hold whole chunks (`CHUNK_ROWS`) for the sum to be the in-process engine's.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_gradientSelected<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    loss: jint,
    rows: JFloatArray<'l>,
    dim: jint,
    first_row: jlong,
    sel_rows: JLongArray<'l>,
    sel_labels: JDoubleArray<'l>,
    sel_weights: JDoubleArray<'l>,
    kernel_v: JDoubleArray<'l>,
    offset: jdouble,
    iteration: jint,
    fraction: jdouble,
) -> jlongArray {
    guard::run(&mut env, "gradientSelected", |env| {
        let kind = loss_kind(loss)?;
        let dim = positive(dim, "dim")?;
        let iteration = u32::try_from(iteration)
            .map_err(|_| Error::Invalid(format!("iteration must be >= 0, got {iteration}")))?;
        let n = selection_lengths(
            env,
            &rows,
            dim,
            &sel_rows,
            Some(&sel_labels),
            Some(&sel_weights),
        )?;
        let v = arrays::read_doubles(env, &kernel_v, "kernelV")?;
        if !offset.is_finite() {
            return invalid(format!("offset must be finite, got {offset}"));
        }
        let w = KernelWeights { v, offset };
        let sum = {
            // Safety: all lengths were read above; no JNI call until the guards drop.
            let x = unsafe { Critical::pin(env, &rows, n.values)? };
            let r = unsafe { Critical::pin(env, &sel_rows, n.rows)? };
            let l = unsafe { pin_optional(env, &sel_labels, n.labels)? };
            let wt = unsafe { pin_optional(env, &sel_weights, n.weights)? };
            let sel = selected::Selection {
                rows: &r,
                labels: l.as_deref().unwrap_or_default(),
                weights: wt.as_deref(),
            };
            selected::gradient(kind, &x, dim, first_row, &sel, &w, iteration, fraction)?
        };
        new_long_array(env, &sum.to_words())
    })
}

/// `long[] gradientBatch(int loss, float[] rows, int dim, long firstRow, int[] selStart,
/// long[] selRows, double[] selLabels, double[] selWeights, double[] kernelV,
/// double[] offsets, int iteration, double fraction)`
///
/// The exact gradient sums of K models over one cached block of whole chunks, in one
/// pass (GEMM-shaped, `paws_core::batch`): model k's selected rows in the block are
/// `selRows[selStart[k]..selStart[k + 1]]` (with their labels and, unless `selWeights`
/// is null, weights), its kernel weights `kernelV[k·dim..(k+1)·dim]` and `offsets[k]`.
/// Returns the K sums' words concatenated (`sumWords(dim)` each), each equal to
/// `gradientSelected` of that model alone, bit for bit.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_gradientBatch<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    loss: jint,
    rows: JFloatArray<'l>,
    dim: jint,
    first_row: jlong,
    sel_start: JIntArray<'l>,
    sel_rows: JLongArray<'l>,
    sel_labels: JDoubleArray<'l>,
    sel_weights: JDoubleArray<'l>,
    kernel_v: JDoubleArray<'l>,
    offsets: JDoubleArray<'l>,
    iteration: jint,
    fraction: jdouble,
) -> jlongArray {
    guard::run(&mut env, "gradientBatch", |env| {
        let kind = loss_kind(loss)?;
        let dim = positive(dim, "dim")?;
        let iteration = u32::try_from(iteration)
            .map_err(|_| Error::Invalid(format!("iteration must be >= 0, got {iteration}")))?;
        let n = selection_lengths(
            env,
            &rows,
            dim,
            &sel_rows,
            Some(&sel_labels),
            Some(&sel_weights),
        )?;
        if sel_start.is_null() {
            return invalid("selStart must not be null");
        }
        let n_start = env.get_array_length(&sel_start)? as usize;
        let mut start = vec![0i32; n_start];
        env.get_int_array_region(&sel_start, 0, &mut start)?;
        let v = arrays::read_doubles(env, &kernel_v, "kernelV")?;
        let offsets = arrays::read_doubles(env, &offsets, "offsets")?;
        let sums = {
            // Safety: all lengths were read above; no JNI call until the guards drop.
            let x = unsafe { Critical::pin(env, &rows, n.values)? };
            let r = unsafe { Critical::pin(env, &sel_rows, n.rows)? };
            let l = unsafe { pin_optional(env, &sel_labels, n.labels)? };
            let wt = unsafe { pin_optional(env, &sel_weights, n.weights)? };
            let sel = selected::Selection {
                rows: &r,
                labels: l.as_deref().unwrap_or_default(),
                weights: wt.as_deref(),
            };
            selected::gradient_batch(
                kind, &x, dim, first_row, &start, &sel, &v, &offsets, iteration, fraction,
            )?
        };
        let words: Vec<i64> = sums.iter().flat_map(|s| s.to_words()).collect();
        new_long_array(env, &words)
    })
}

/// `long[] confusionSelected(int loss, float[] rows, int dim, long firstRow,
/// long[] selRows, double[] selLabels, double[] weights, double intercept,
/// double threshold)`: `{tp, fp, tn, fn}` of the model on the selected rows of the
/// block (see `gradientSelected`).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_confusionSelected<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    loss: jint,
    rows: JFloatArray<'l>,
    dim: jint,
    first_row: jlong,
    sel_rows: JLongArray<'l>,
    sel_labels: JDoubleArray<'l>,
    weights: JDoubleArray<'l>,
    intercept: jdouble,
    threshold: jdouble,
) -> jlongArray {
    guard::run(&mut env, "confusionSelected", |env| {
        let dim = positive(dim, "dim")?;
        if threshold.is_nan() {
            return invalid("threshold must not be NaN for a confusion matrix");
        }
        let n = selection_lengths(env, &rows, dim, &sel_rows, Some(&sel_labels), None)?;
        let model = model_arg(env, loss, &weights, intercept, threshold, dim)?;
        let c = {
            let x = unsafe { Critical::pin(env, &rows, n.values)? };
            let r = unsafe { Critical::pin(env, &sel_rows, n.rows)? };
            let l = unsafe { pin_optional(env, &sel_labels, n.labels)? };
            let sel = selected::Selection {
                rows: &r,
                labels: l.as_deref().unwrap_or_default(),
                weights: None,
            };
            selected::confusion(&model, &x, dim, first_row, &sel)?
        };
        let counts = [c.tp, c.fp, c.tn, c.fn_].map(|v| v as i64);
        new_long_array(env, &counts)
    })
}

/// `long[] momentsSelected(float[] rows, int dim, long firstRow, long[] selRows,
/// double[] center)`: per-feature moments of the selected rows of the block, as exact
/// sum words (merge with `mergeSums`): `Σ x` with a null `center`, else
/// `Σ (x - center)²`. Finish with `meanOfMoments` / `invStdOfMoments`.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_momentsSelected<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    rows: JFloatArray<'l>,
    dim: jint,
    first_row: jlong,
    sel_rows: JLongArray<'l>,
    center: JDoubleArray<'l>,
) -> jlongArray {
    guard::run(&mut env, "momentsSelected", |env| {
        let dim = positive(dim, "dim")?;
        let n = selection_lengths(env, &rows, dim, &sel_rows, None, None)?;
        let center = arrays::read_optional_doubles(env, &center, "center")?;
        let sum = {
            let x = unsafe { Critical::pin(env, &rows, n.values)? };
            let r = unsafe { Critical::pin(env, &sel_rows, n.rows)? };
            selected::moments(&x, dim, first_row, &r, center.as_deref())?
        };
        new_long_array(env, &sum.to_words())
    })
}

/// `double[] meanOfMoments(long[] words)`: the per-feature mean from merged
/// `momentsSelected` sums without a center.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_meanOfMoments<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    words: JLongArray<'l>,
) -> jdoubleArray {
    guard::run(&mut env, "meanOfMoments", |env| {
        let sum = moments_arg(env, &words)?;
        new_double_array(env, &selected::mean_of(&sum))
    })
}

/// `double[] invStdOfMoments(long[] words)`: per-feature inverse sample standard
/// deviations (0 for a constant feature) from merged `momentsSelected` sums around the
/// mean.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_invStdOfMoments<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    words: JLongArray<'l>,
) -> jdoubleArray {
    guard::run(&mut env, "invStdOfMoments", |env| {
        let sum = moments_arg(env, &words)?;
        new_double_array(env, &selected::inv_std_of(&sum))
    })
}

fn moments_arg(env: &JNIEnv, words: &JLongArray) -> Result<GradientSum> {
    let n = length(env, words, "words")?;
    let mut w = vec![0i64; n];
    env.get_long_array_region(words, 0, &mut w)?;
    let sum = sum_of_words(&w, "words")?;
    if sum.overflowed() {
        return Err(Error::Native(
            "moments overflowed (a feature value is too large)".into(),
        ));
    }
    Ok(sum)
}
