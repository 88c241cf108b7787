//! JNI exports of `dev.paws.spark.jni.NativeKernels` (see
//! `jvm-shim/src/main/java/dev/paws/spark/jni/NativeKernels.java`, which documents each
//! one for Java callers): the numeric contract, gradient sums over cached blocks, the
//! driver-side SGD state, evaluation and scaling moments over a model's selected rows,
//! the per-task sweep accumulator and feature extraction from image bytes.
//!
//! The functions here only check arguments, read Java arrays in place and call
//! paws-core and paws-vision, so the Spark engine runs the in-process engine's code.
//!
//! An extractor is loaded once per executor JVM and shared by its task threads: the
//! handle holds an `Arc<Extractor>` (tract plans run concurrently from `&self`), and the
//! table lock is held only to clone the `Arc`, never while an image runs.

use crate::arrays::{
    self, length, new_double_array, new_float_array, new_long_array, optional_length, read_bytes,
    Critical,
};
use crate::guard::{self, invalid, Error, Result};
use crate::handles::{self, Handles};
use crate::{block_rows, bool_of, jbool, loss_code, loss_kind, params_arg, positive, string_arg};
use jni::objects::{
    JByteArray, JClass, JDoubleArray, JFloatArray, JIntArray, JLongArray, JObjectArray, JString,
};
use jni::sys::{
    jboolean, jbyteArray, jdouble, jdoubleArray, jfloatArray, jint, jlong, jlongArray, jstring,
};
use jni::JNIEnv;
use paws_core::access::selection::{self, Selection};
use paws_core::data::chunk::CHUNK_ROWS;
use paws_core::data::exact_sum::GradientSum;
use paws_core::experiment::ExperimentConfig;
use paws_core::kernels::gradient::{KernelWeights, LossKind};
use paws_core::kernels::sparse::SparseRows;
use paws_core::model::eval;
use paws_core::model::linear::LinearModel;
use paws_core::optimiser::batch::{BlockRows, SweepAccumulator};
use paws_core::optimiser::round;
use paws_core::optimiser::sgd::{Sgd, SgdParams};
use paws_core::optimiser::standardize::{FeatureMap, Scaling};
use paws_core::optimiser::updater::UpdaterKind;
use paws_vision::{Backend, Extractor, ModelOptions, VisionError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The numeric contract the JVM side must follow: the chunk size, the layout of an
/// exact sum's words, the loss codes, the SGD defaults and the updater names (with
/// their aliases). Every value comes from the Rust constants; the fields serialise in
/// this order.
#[derive(Serialize)]
struct Contract {
    version: &'static str,
    chunk_rows: usize,
    sum_words: SumWords,
    loss: LossCodes,
    defaults: Defaults,
    updaters: [&'static str; 3],
    updater_aliases: BTreeMap<&'static str, &'static str>,
}

/// The words of a gradient sum of `dim` features: `per_dim·dim + constant`.
#[derive(Serialize)]
struct SumWords {
    per_dim: usize,
    constant: usize,
}

#[derive(Serialize)]
struct LossCodes {
    hinge: i32,
    logistic: i32,
}

#[derive(Serialize)]
struct Defaults {
    iterations: u32,
    step_size: f64,
    reg_param: f64,
    mini_batch_fraction: f64,
    convergence_tol: f64,
    updater: &'static str,
    intercept: bool,
}

/// The contract as JSON (see [`Contract`]).
pub(crate) fn contract_json() -> String {
    let sgd = SgdParams::default();
    let contract = Contract {
        version: env!("CARGO_PKG_VERSION"),
        chunk_rows: CHUNK_ROWS,
        sum_words: SumWords {
            per_dim: GradientSum::WORDS_PER_VALUE,
            // A gradient sum holds dim + 1 numbers (Σ c·x, then Σ c).
            constant: GradientSum::word_count(1),
        },
        loss: LossCodes {
            hinge: loss_code(LossKind::Hinge),
            logistic: loss_code(LossKind::Logistic),
        },
        defaults: Defaults {
            iterations: sgd.iterations,
            step_size: sgd.step_size,
            reg_param: sgd.reg_param,
            mini_batch_fraction: sgd.mini_batch_fraction,
            convergence_tol: sgd.convergence_tol,
            updater: sgd.updater.name(),
            intercept: ExperimentConfig::default().intercept,
        },
        updaters: UpdaterKind::ALL.map(UpdaterKind::name),
        updater_aliases: UpdaterKind::ALIASES.into_iter().collect(),
    };
    serde_json::to_string(&contract).expect("the contract serialises")
}

/// `String contract()`: see [`contract_json`].
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_contract<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
) -> jstring {
    guard::run(&mut env, "contract", |env| {
        Ok(env.new_string(contract_json())?.into_raw())
    })
}

/// `String nativeVersion()`: the crate version and the numeric contract it implements.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_nativeVersion<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
) -> jstring {
    guard::run(&mut env, "nativeVersion", |env| {
        let s = format!(
            "paws-jni {} (chunk rows {})",
            env!("CARGO_PKG_VERSION"),
            paws_core::data::chunk::CHUNK_ROWS
        );
        Ok(env.new_string(s)?.into_raw())
    })
}

/// `long[] mergeSums(long[] a, long[] b)`: the sum of two gradient sums (exact, so
/// any order of merging gives the same result). Neither input is modified.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_mergeSums<'l>(
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
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdCreate<'l>(
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
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdKernelWeights<'l>(
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
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdIteration<'l>(
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
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdIsDone<'l>(
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
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdConverged<'l>(
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
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdUpdates<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jint {
    guard::run(&mut env, "sgdUpdates", |_| {
        handles::with(h, |s| Ok(s.updates().min(i32::MAX as u32) as jint))
    })
}

/// `void sgdApply(long h, long[] sumWords)`: one pass's gradient sum (from
/// `sweepAccAdd` / `mergeSums`) applied with MLlib's updater and convergence test.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdApply<'l>(
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

/// `byte[] sgdSave(long h)`: the whole state in binary (`Sgd::to_bytes`, exact), for a
/// copy elsewhere.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdSave<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jbyteArray {
    guard::run(&mut env, "sgdSave", |env| {
        let bytes = handles::with(h, |s| Ok(s.to_bytes()))?;
        Ok(env.byte_array_from_slice(&bytes)?.into_raw())
    })
}

/// `long sgdLoad(byte[] state)`: a new state from `sgdSave`'s bytes.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdLoad<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    state: JByteArray<'l>,
) -> jlong {
    guard::run(&mut env, "sgdLoad", |env| {
        let bytes = env.convert_byte_array(&state)?;
        Ok(handles::insert(Sgd::from_bytes(&bytes)?))
    })
}

/// `void sgdRestore(long h, byte[] state)`: replaces the state with `sgdSave`'s bytes.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdRestore<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    state: JByteArray<'l>,
) {
    guard::run(&mut env, "sgdRestore", |env| {
        let state = Sgd::from_bytes(&env.convert_byte_array(&state)?)?;
        handles::with(h, |s| {
            *s = state;
            Ok(())
        })
    })
}

/// `void sgdApplyRound(long[] handles, int[] modelIds, byte[][] messages)`: merges the
/// round's messages (`sweepAccFinishMessage` of every task) and applies model
/// `modelIds[k]`'s sum to `handles[k]`, as `sgdApply` does.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdApplyRound<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handles_arg: JLongArray<'l>,
    model_ids: JIntArray<'l>,
    messages: JObjectArray<'l>,
) {
    guard::run(&mut env, "sgdApplyRound", |env| {
        let n = length(env, &handles_arg, "handles")?;
        let mut hs = vec![0i64; n];
        env.get_long_array_region(&handles_arg, 0, &mut hs)?;
        let ids = read_ints(env, &model_ids, "modelIds")?
            .into_iter()
            .map(|id| usize::try_from(id).map_err(|_| Error::Invalid(format!("model id {id} < 0"))))
            .collect::<Result<Vec<_>>>()?;
        if ids.len() != n {
            return invalid(format!("{n} handles but {} model ids", ids.len()));
        }
        if messages.is_null() {
            return invalid("messages must not be null");
        }
        let mut bytes = Vec::new();
        for i in 0..env.get_array_length(&messages)? {
            let m = JByteArray::from(env.get_object_array_element(&messages, i)?);
            if m.is_null() {
                return invalid(format!("messages[{i}] is null"));
            }
            bytes.push(env.convert_byte_array(&m)?);
            env.delete_local_ref(m)?;
        }
        let Some(&first) = hs.first() else {
            return Ok(());
        };
        let values = handles::with(first, |s| Ok(s.feature_map().dim + 1))?;
        let views: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
        round::for_each_merged(values, &ids, &views, |k, sum| {
            handles::with(hs[k], |s| Ok(s.apply(sum)?))
        })
    })
}

/// `double[] sgdLossHistory(long h)`: MLlib's `stochasticLossHistory`.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdLossHistory<'l>(
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
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdRawModel<'l>(
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
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jboolean {
    guard::run(&mut env, "sgdFree", |_| Ok(jbool(handles::remove(h))))
}

/// `int sgdLiveHandles()`: SGD states not yet freed (for leak checks).
#[cfg(feature = "test-hooks")]
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sgdLiveHandles<'l>(
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

/// `void debugPanic(String message)`: panics in Rust (tests that a panic becomes a
/// `PawsNativeException` and the JVM lives on). The panic is expected, so the hook
/// does not log it (a real panic is logged).
#[cfg(feature = "test-hooks")]
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_debugPanic<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    message: JString<'l>,
) {
    guard::run(&mut env, "debugPanic", |env| {
        let msg = string_arg(env, &message, "message")?;
        // On purpose: the exception carries the panic; stderr stays quiet.
        guard::expect_panic();
        panic!("{msg}")
    })
}

/// `void debugError(String kind, String message)`: returns a Rust error of the given
/// kind: "invalid" (IllegalArgumentException), "io" (IOException), anything else
/// (PawsNativeException).
#[cfg(feature = "test-hooks")]
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_debugError<'l>(
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

/// A selection's arrays (rows, and optionally labels and weights) with their lengths,
/// read before anything is pinned: once an array is pinned, no other JNI call may come
/// until it is released.
struct SelectionArgs<'a, 'l> {
    rows: (&'a JLongArray<'l>, usize),
    labels: Option<(&'a JDoubleArray<'l>, usize)>,
    weights: Option<(&'a JDoubleArray<'l>, usize)>,
}

impl<'a, 'l> SelectionArgs<'a, 'l> {
    /// `labels` must not be null when given; `weights` may be (no row weights).
    fn read(
        env: &JNIEnv,
        rows: &'a JLongArray<'l>,
        labels: Option<&'a JDoubleArray<'l>>,
        weights: Option<&'a JDoubleArray<'l>>,
    ) -> Result<Self> {
        Ok(SelectionArgs {
            rows: (rows, length(env, rows, "selRows")?),
            labels: labels
                .map(|l| Ok::<_, Error>((l, length(env, l, "selLabels")?)))
                .transpose()?,
            weights: match weights {
                Some(w) => optional_length(env, w, "selWeights")?.map(|n| (w, n)),
                None => None,
            },
        })
    }

    /// Pins the arrays for one kernel call.
    ///
    /// # Safety
    /// As [`Critical::pin`]: no JNI call but pinning others until the guards drop.
    unsafe fn pin(&self, env: &JNIEnv) -> Result<PinnedSelection<'a>> {
        let pin = |a: Option<(&'a JDoubleArray<'l>, usize)>| match a {
            Some((array, n)) => Critical::pin(env, array, n).map(Some),
            None => Ok(None),
        };
        Ok(PinnedSelection {
            rows: Critical::pin(env, self.rows.0, self.rows.1)?,
            labels: pin(self.labels)?,
            weights: pin(self.weights)?,
        })
    }
}

/// A selection's arrays, pinned (see [`SelectionArgs::pin`]).
struct PinnedSelection<'a> {
    rows: Critical<'a, i64>,
    labels: Option<Critical<'a, f64>>,
    weights: Option<Critical<'a, f64>>,
}

impl PinnedSelection<'_> {
    fn selection(&self) -> Selection<'_> {
        Selection {
            rows: &self.rows,
            labels: self.labels.as_deref().unwrap_or_default(),
            weights: self.weights.as_deref(),
        }
    }
}

/// The number of values of a dense block's `rows`, checked against `dim`.
fn dense_values(env: &JNIEnv, rows: &JFloatArray, dim: usize) -> Result<usize> {
    let values = length(env, rows, "rows")?;
    block_rows(values, dim)?;
    Ok(values)
}

/// `long[] confusionSelected(int loss, float[] rows, int dim, long firstRow,
/// long[] selRows, double[] selLabels, double[] weights, double intercept,
/// double threshold)`: `{tp, fp, tn, fn}` of the model on the selected rows of the
/// block (see `momentsSelected`).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_confusionSelected<'l>(
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
        let values = dense_values(env, &rows, dim)?;
        let sel = SelectionArgs::read(env, &sel_rows, Some(&sel_labels), None)?;
        let model = model_arg(env, loss, &weights, intercept, threshold, dim)?;
        let c = {
            let x = unsafe { Critical::pin(env, &rows, values)? };
            let sel = unsafe { sel.pin(env)? };
            eval::selection_confusion(&model, &x, dim, first_row, &sel.selection())?
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
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_momentsSelected<'l>(
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
        let values = dense_values(env, &rows, dim)?;
        let sel = SelectionArgs::read(env, &sel_rows, None, None)?;
        let center = arrays::read_optional_doubles(env, &center, "center")?;
        let sum = {
            let x = unsafe { Critical::pin(env, &rows, values)? };
            let sel = unsafe { sel.pin(env)? };
            selection::moments(&x, dim, first_row, &sel.rows, center.as_deref())?
        };
        new_long_array(env, &sum.to_words())
    })
}

/// `double[] meanOfMoments(long[] words)`: the per-feature mean from merged
/// `momentsSelected` sums without a center.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_meanOfMoments<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    words: JLongArray<'l>,
) -> jdoubleArray {
    guard::run(&mut env, "meanOfMoments", |env| {
        let sum = moments_arg(env, &words)?;
        new_double_array(env, &selection::mean_of(&sum))
    })
}

/// `double[] invStdOfMoments(long[] words)`: per-feature inverse sample standard
/// deviations (0 for a constant feature) from merged `momentsSelected` sums around the
/// mean.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_invStdOfMoments<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    words: JLongArray<'l>,
) -> jdoubleArray {
    guard::run(&mut env, "invStdOfMoments", |env| {
        let sum = moments_arg(env, &words)?;
        new_double_array(env, &selection::inv_std_of(&sum))
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

/// One Spark task's sweep pass: each model's exact sum stays native while the task adds
/// its blocks (scratch buffers reused), and the task takes one array at the end.
static ACCUMULATORS: Handles<SweepAccumulator> = Handles::new("sweep accumulator");

fn read_ints(env: &JNIEnv, a: &JIntArray, what: &str) -> Result<Vec<i32>> {
    if a.is_null() {
        return invalid(format!("{what} must not be null"));
    }
    let n = env.get_array_length(a)? as usize;
    let mut out = vec![0; n];
    env.get_int_array_region(a, 0, &mut out)?;
    Ok(out)
}

/// `long sweepAccCreate(int models, int dim)`: an empty accumulator for model ids
/// `0..models`.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sweepAccCreate<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    models: jint,
    dim: jint,
) -> jlong {
    guard::run(&mut env, "sweepAccCreate", |_| {
        let models = positive(models, "models")?;
        let dim = positive(dim, "dim")?;
        Ok(ACCUMULATORS.insert(SweepAccumulator::new(models, dim)))
    })
}

/// `long[] sweepAccFinish(long handle)`: frees the accumulator and returns its sums:
/// `n`, then the `n` model ids, then their `n` sums' words (`sumWords(dim)` each).
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sweepAccFinish<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jlongArray {
    guard::run(&mut env, "sweepAccFinish", |env| {
        let sums = ACCUMULATORS.take(handle)?.finish();
        let mut out = Vec::with_capacity(1 + sums.len() * 2);
        out.push(sums.len() as i64);
        out.extend(sums.iter().map(|(id, _)| *id as i64));
        for (_, s) in &sums {
            out.extend(s.to_words());
        }
        new_long_array(env, &out)
    })
}

/// `byte[] sweepAccFinishMessage(long handle)`: frees the accumulator and returns its
/// sums as one round message for `sgdApplyRound` (compact: about 10 bytes a value).
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sweepAccFinishMessage<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jbyteArray {
    guard::run(&mut env, "sweepAccFinishMessage", |env| {
        let message = round::encode(&ACCUMULATORS.take(handle)?.finish());
        Ok(env.byte_array_from_slice(&message)?.into_raw())
    })
}

/// The kernel weights of one pass's models, made once per task and pass
/// (`sweepWeightsCreate` from the barrier task's SGD states, `sweepWeightsOf` from the
/// per-job driver's broadcast) and read in place by each block's `sweepAccAdd`: a pass
/// does not stack and copy every model's weights per block.
/// A pass's kernel weights, entry k for model k; `None` once released (a barrier task's
/// model that is done: see `sweepWeightsRefresh`).
static SWEEP_WEIGHTS: Handles<Vec<Option<KernelWeights>>> = Handles::new("sweep weights");

/// `long sweepWeightsCreate(long[] sgdHandles)`: the kernel weights of these SGD states
/// (`sgdKernelWeights` of each), in that order; free with `sweepWeightsFree`.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sweepWeightsCreate<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    sgds: JLongArray<'l>,
) -> jlong {
    guard::run(&mut env, "sweepWeightsCreate", |env| {
        let n = length(env, &sgds, "sgdHandles")?;
        let mut hs = vec![0i64; n];
        env.get_long_array_region(&sgds, 0, &mut hs)?;
        let weights = hs
            .iter()
            .map(|&h| handles::with(h, |s| Ok(Some(s.kernel_weights()))))
            .collect::<Result<Vec<_>>>()?;
        Ok(SWEEP_WEIGHTS.insert(weights))
    })
}

/// `void sweepWeightsRefresh(long weights, long[] sgdHandles, int[] slots)`: entry
/// `slots[i]` of `weights` becomes the kernel weights of SGD state `sgdHandles[i]`, in
/// place, and the entries not named are released (a barrier task's weights, refreshed
/// after each round for the models still training: those that are done give their
/// memory back, 32 KB a model of 4,096 features; a block that names one is an error).
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sweepWeightsRefresh<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    weights: jlong,
    sgds: JLongArray<'l>,
    slots: JIntArray<'l>,
) {
    guard::run(&mut env, "sweepWeightsRefresh", |env| {
        let n = length(env, &sgds, "sgdHandles")?;
        let mut hs = vec![0i64; n];
        env.get_long_array_region(&sgds, 0, &mut hs)?;
        let slots = read_ints(env, &slots, "slots")?;
        if slots.len() != n {
            return invalid(format!("{} slots for {n} SGD handles", slots.len()));
        }
        SWEEP_WEIGHTS.with(weights, |all| {
            let held = all.len();
            let mut named = vec![false; held];
            for &slot in &slots {
                match usize::try_from(slot).ok().filter(|&s| s < held) {
                    Some(s) => named[s] = true,
                    None => {
                        return invalid(format!(
                            "slot {slot} out of range: the weights hold {held} models"
                        ))
                    }
                }
            }
            for (&h, &slot) in hs.iter().zip(&slots) {
                let entry = &mut all[slot as usize];
                handles::with(h, |s| {
                    match entry {
                        Some(w) => s.kernel_weights_into(w),
                        None => *entry = Some(s.kernel_weights()),
                    }
                    Ok(())
                })?;
            }
            for (entry, named) in all.iter_mut().zip(named) {
                if !named {
                    *entry = None;
                }
            }
            Ok(())
        })
    })
}

/// `long sweepWeightsOf(double[] kernels, int dim)`: K models' kernel weights given as
/// `sgdKernelWeights` returns them, one after the other (`dim` weights, then the offset,
/// each); free with `sweepWeightsFree`.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sweepWeightsOf<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    kernels: JDoubleArray<'l>,
    dim: jint,
) -> jlong {
    guard::run(&mut env, "sweepWeightsOf", |env| {
        let dim = positive(dim, "dim")?;
        let all = arrays::read_doubles(env, &kernels, "kernels")?;
        if all.len() % (dim + 1) != 0 {
            return invalid(format!(
                "kernels must hold K × (dim + 1) = K × {} values (dim weights, then the offset, \
                 per model), got {}",
                dim + 1,
                all.len()
            ));
        }
        let weights = all
            .chunks_exact(dim + 1)
            .map(|k| {
                Some(KernelWeights {
                    v: k[..dim].to_vec(),
                    offset: k[dim],
                })
            })
            .collect();
        Ok(SWEEP_WEIGHTS.insert(weights))
    })
}

/// `boolean sweepWeightsFree(long weights)`: false when they were not live.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sweepWeightsFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    weights: jlong,
) -> jboolean {
    guard::run(&mut env, "sweepWeightsFree", |_| {
        Ok(jbool(SWEEP_WEIGHTS.remove(weights)))
    })
}

/// `void sweepAccAdd(long handle, int loss, float[] rows, int dim, long firstRow,
/// int[] modelIds, int[] selStart, long[] selRows, double[] selLabels,
/// double[] selWeights, long weights, int[] members, int iteration, double fraction)`:
/// adds K models' gradient sums over one cached block of whole chunks
/// (`SweepAccumulator::add_selected`): model k's selected rows in the block are
/// `selRows[selStart[k]..selStart[k + 1]]` (with their labels and, unless `selWeights`
/// is null, weights), its kernel weights are entry `members[k]` of the pass's `weights`
/// (`sweepWeightsCreate`/`sweepWeightsOf`), and it is model `modelIds[k]` of the
/// accumulator.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sweepAccAdd<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    loss: jint,
    rows: JFloatArray<'l>,
    dim: jint,
    first_row: jlong,
    model_ids: JIntArray<'l>,
    sel_start: JIntArray<'l>,
    sel_rows: JLongArray<'l>,
    sel_labels: JDoubleArray<'l>,
    sel_weights: JDoubleArray<'l>,
    weights: jlong,
    members: JIntArray<'l>,
    iteration: jint,
    fraction: jdouble,
) {
    guard::run(&mut env, "sweepAccAdd", |env| {
        let dim = positive(dim, "dim")?;
        let values = dense_values(env, &rows, dim)?;
        let sel = SelectionArgs::read(env, &sel_rows, Some(&sel_labels), Some(&sel_weights))?;
        let pass = AddArgs::read(env, loss, iteration, &model_ids, &sel_start, &members)?;
        pass.with_weights(weights, |kw| {
            ACCUMULATORS.with(handle, |acc| {
                // Safety: all lengths were read above; no JNI call until the guards drop.
                let x = unsafe { Critical::pin(env, &rows, values)? };
                let sel = unsafe { sel.pin(env)? };
                pass.add_to(
                    acc,
                    BlockRows::Dense(&x),
                    dim,
                    first_row,
                    &sel.selection(),
                    kw,
                    fraction,
                )
            })
        })
    })
}

/// `void sweepAccAddSparse(long handle, int loss, int[] ptr, int[] indices,
/// float[] values, int dim, long firstRow, int[] modelIds, int[] selStart,
/// long[] selRows, double[] selLabels, double[] selWeights, long weights,
/// int[] members, int iteration, double fraction)`: `sweepAccAdd` for a block of
/// sparse rows in the lane layout of `paws_core::kernels::sparse::SparseRows`; every
/// sum is the one of the same rows dense, bit for bit.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sweepAccAddSparse<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    loss: jint,
    ptr: JIntArray<'l>,
    indices: JIntArray<'l>,
    values: JFloatArray<'l>,
    dim: jint,
    first_row: jlong,
    model_ids: JIntArray<'l>,
    sel_start: JIntArray<'l>,
    sel_rows: JLongArray<'l>,
    sel_labels: JDoubleArray<'l>,
    sel_weights: JDoubleArray<'l>,
    weights: jlong,
    members: JIntArray<'l>,
    iteration: jint,
    fraction: jdouble,
) {
    guard::run(&mut env, "sweepAccAddSparse", |env| {
        let dim = positive(dim, "dim")?;
        let n_ptr = length(env, &ptr, "ptr")?;
        let n_indices = length(env, &indices, "indices")?;
        let n_values = length(env, &values, "values")?;
        let sel = SelectionArgs::read(env, &sel_rows, Some(&sel_labels), Some(&sel_weights))?;
        let pass = AddArgs::read(env, loss, iteration, &model_ids, &sel_start, &members)?;
        pass.with_weights(weights, |kw| {
            ACCUMULATORS.with(handle, |acc| {
                // Safety: all lengths were read above; no JNI call until the guards drop.
                let p = unsafe { Critical::pin(env, &ptr, n_ptr)? };
                let j = unsafe { Critical::pin(env, &indices, n_indices)? };
                let x = unsafe { Critical::pin(env, &values, n_values)? };
                let sel = unsafe { sel.pin(env)? };
                let rows = BlockRows::Sparse(SparseRows::new(&p, &j, &x, dim)?);
                pass.add_to(acc, rows, dim, first_row, &sel.selection(), kw, fraction)
            })
        })
    })
}

/// The arguments of a `sweepAccAdd*` call besides the rows and the selection.
struct AddArgs {
    kind: LossKind,
    iteration: u32,
    ids: Vec<i32>,
    start: Vec<i32>,
    members: Vec<i32>,
}

impl AddArgs {
    fn read(
        env: &JNIEnv,
        loss: jint,
        iteration: jint,
        model_ids: &JIntArray,
        sel_start: &JIntArray,
        members: &JIntArray,
    ) -> Result<Self> {
        Ok(AddArgs {
            kind: loss_kind(loss)?,
            iteration: u32::try_from(iteration)
                .map_err(|_| Error::Invalid(format!("iteration must be >= 0, got {iteration}")))?,
            ids: read_ints(env, model_ids, "modelIds")?,
            start: read_ints(env, sel_start, "selStart")?,
            members: read_ints(env, members, "members")?,
        })
    }

    /// Calls `f` with the kernel weights of `members` from the pass's `weights`.
    fn with_weights<R>(
        &self,
        weights: jlong,
        f: impl FnOnce(&[&KernelWeights]) -> Result<R>,
    ) -> Result<R> {
        SWEEP_WEIGHTS.with(weights, |all| {
            let kw = self
                .members
                .iter()
                .map(
                    |&m| match usize::try_from(m).ok().and_then(|m| all.get(m)) {
                        Some(Some(w)) => Ok(w),
                        Some(None) => invalid(format!(
                            "member {m}: its weights were released (its model is done)"
                        )),
                        None => invalid(format!(
                            "member {m} out of range: the pass has {} models",
                            all.len()
                        )),
                    },
                )
                .collect::<Result<Vec<&KernelWeights>>>()?;
            f(&kw)
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn add_to(
        &self,
        acc: &mut SweepAccumulator,
        rows: BlockRows,
        dim: usize,
        first_row: i64,
        sel: &Selection,
        kw: &[&KernelWeights],
        fraction: f64,
    ) -> Result<()> {
        if acc.dim() != dim {
            return invalid(format!(
                "dim {dim}, but the accumulator was created for dim {}",
                acc.dim()
            ));
        }
        Ok(acc.add_selected(
            self.kind,
            rows,
            first_row,
            &self.ids,
            &self.start,
            sel,
            kw,
            self.iteration,
            fraction,
        )?)
    }
}

/// `boolean sweepAccFree(long handle)`: frees an accumulator that will not be finished
/// (a failed task); false when it was not live.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_sweepAccFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jboolean {
    guard::run(&mut env, "sweepAccFree", |_| {
        Ok(jbool(ACCUMULATORS.remove(handle)))
    })
}

static EXTRACTORS: Handles<Arc<Extractor>> = Handles::new("extractor");

impl From<VisionError> for Error {
    fn from(e: VisionError) -> Self {
        match e {
            // The caller's data: an unreadable photo or model, a bad output name.
            VisionError::Decode { .. }
            | VisionError::UnknownFormat { .. }
            | VisionError::TooLarge { .. }
            | VisionError::Model { .. }
            | VisionError::BadFileName { .. }
            | VisionError::InvalidInput(_) => Error::Invalid(e.to_string()),
            VisionError::Io { .. } => Error::Io(e.to_string()),
            VisionError::Core(c) => c.into(),
            // No wildcard: a new variant must be placed here on purpose (an image error
            // that is not `Invalid` would fail a Spark extraction instead of skipping).
            // The executor's onnxruntime library cannot be used: fatal, as no photo
            // could be extracted on this executor.
            VisionError::NoImages { .. }
            | VisionError::Inference { .. }
            | VisionError::Backend { .. } => Error::Native(e.to_string()),
        }
    }
}

fn extractor(h: jlong) -> Result<Arc<Extractor>> {
    EXTRACTORS.with(h, |e| Ok(Arc::clone(e)))
}

fn optional_string(env: &mut JNIEnv, s: &JString, what: &str) -> Result<Option<String>> {
    if s.is_null() {
        Ok(None)
    } else {
        string_arg(env, s, what).map(Some)
    }
}

/// `long extractorOpen(byte[] model, String name, int inputSize, String featuresOutput,
/// String modelId, String backend, String onnxruntimeLib)`: loads an ONNX model from its
/// bytes; `name` (its path) stands for the file in errors; `modelId` may be null (the
/// ONNX metadata, else the file stem). `backend` is `tract` or `onnxruntime`;
/// `onnxruntimeLib` is the `libonnxruntime` to open (null: `$ORT_DYLIB_PATH`), and a
/// library that cannot be opened is an `IllegalArgumentException` naming it.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_extractorOpen<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    model: JByteArray<'l>,
    name: JString<'l>,
    input_size: jint,
    features_output: JString<'l>,
    model_id: JString<'l>,
    backend: JString<'l>,
    onnxruntime_lib: JString<'l>,
) -> jlong {
    guard::run(&mut env, "extractorOpen", |env| {
        let name = string_arg(env, &name, "name")?;
        let input_size = positive(input_size, "inputSize")? as u32;
        let features_output = string_arg(env, &features_output, "featuresOutput")?;
        let model_id = optional_string(env, &model_id, "modelId")?;
        let backend = string_arg(env, &backend, "backend")?;
        let library = optional_string(env, &onnxruntime_lib, "onnxruntimeLib")?;
        let backend = Backend::from_name(&backend, library.map(PathBuf::from))?;
        let bytes = read_bytes(env, &model, "model")?;
        let options = ModelOptions {
            input_size,
            features_output,
            logits_output: None,
            model_id,
        };
        let ex = Extractor::load_bytes_with(&bytes, Path::new(&name), options, &backend)?;
        Ok(EXTRACTORS.insert(Arc::new(ex)))
    })
}

/// `int extractorDim(long handle)`: the feature dimension.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_extractorDim<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jint {
    guard::run(&mut env, "extractorDim", |_| {
        let dim = extractor(handle)?.dim();
        jint::try_from(dim).map_err(|_| Error::Native(format!("dim {dim} exceeds a Java int")))
    })
}

/// `String extractorModelId(long handle)`: the model id recorded with the features.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_extractorModelId<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jstring {
    guard::run(&mut env, "extractorModelId", |env| {
        let id = extractor(handle)?.model_id().to_string();
        Ok(env.new_string(id)?.into_raw())
    })
}

/// `float[] extractImage(long handle, byte[] image, String name)`: decodes (by content),
/// preprocesses and runs one encoded photo; an image that cannot be decoded throws
/// `IllegalArgumentException` naming `name`.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_extractImage<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    image: JByteArray<'l>,
    name: JString<'l>,
) -> jfloatArray {
    guard::run(&mut env, "extractImage", |env| {
        let ex = extractor(handle)?;
        let name = string_arg(env, &name, "name")?;
        let bytes = read_bytes(env, &image, "image")?;
        let out = ex.run_bytes(&bytes, &name)?;
        new_float_array(env, &out.features)
    })
}

/// `boolean extractorClose(long handle)`: frees the extractor (images running on it
/// finish first); false when the handle was not live.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_extractorClose<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jboolean {
    guard::run(&mut env, "extractorClose", |_| {
        Ok(crate::jbool(EXTRACTORS.remove(handle)))
    })
}

/// `String breedOfFileName(String fileName)`: the breed of `Bengal_12.jpg` (`Bengal`),
/// or null when the name does not follow `<breed>_<n>.<ext>`; the CLI's rule.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeKernels_breedOfFileName<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    file_name: JString<'l>,
) -> jstring {
    guard::run(&mut env, "breedOfFileName", |env| {
        let name = string_arg(env, &file_name, "fileName")?;
        match paws_core::data::dataset::breed_from_file_name(&name) {
            Some(b) => Ok(env.new_string(b)?.into_raw()),
            None => Ok(std::ptr::null_mut()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_json_is_the_published_one() {
        let expect = format!(
            r#"{{"version":"{}","chunk_rows":256,"sum_words":{{"per_dim":2,"constant":6}},"loss":{{"hinge":0,"logistic":1}},"defaults":{{"iterations":100,"step_size":1.0,"reg_param":0.01,"mini_batch_fraction":1.0,"convergence_tol":0.001,"updater":"l2","intercept":false}},"updaters":["l2","l1","none"],"updater_aliases":{{"simple":"none"}}}}"#,
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(contract_json(), expect);
    }

    #[test]
    fn sum_words_describe_a_real_sum() {
        let c: serde_json::Value = serde_json::from_str(&contract_json()).unwrap();
        let (per_dim, constant) = (
            c["sum_words"]["per_dim"].as_u64().unwrap() as usize,
            c["sum_words"]["constant"].as_u64().unwrap() as usize,
        );
        for dim in [1, 7, 4096] {
            let words = GradientSum::zeros(dim + 1).to_words().len();
            assert_eq!(words, per_dim * dim + constant, "dim {dim}");
        }
        for (name, code) in [("hinge", 0), ("logistic", 1)] {
            let kind = loss_kind(c["loss"][name].as_i64().unwrap() as jint).unwrap();
            assert_eq!(loss_code(kind), code);
        }
    }
}
