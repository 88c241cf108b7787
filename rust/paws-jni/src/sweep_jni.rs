//! A sweep pass inside one Spark task: per-model sums accumulated natively.
//!
//! `gradientBatch` returns every model's exact sum per block, which the task then merges
//! in the JVM: a `2·(dim + 1) + 4`-long array per model and block, converted, copied and
//! merged. Here the task opens an accumulator, adds its blocks into it (each model's
//! sum lives in Rust, scratch buffers are reused) and takes one array at the end: the
//! same sums, bit for bit, with a copy per model and task instead of per block.

use crate::arrays::{new_long_array, pin_optional, Critical};
use crate::guard::{self, invalid, Error, Result};
use crate::handles::Handles;
use crate::{loss_kind, positive, selected, selection_lengths};
use jni::objects::{JClass, JDoubleArray, JFloatArray, JIntArray, JLongArray};
use jni::sys::{jboolean, jdouble, jint, jlong, jlongArray};
use jni::JNIEnv;
use paws_core::batch::SweepAccumulator;

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
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sweepAccCreate<'l>(
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

/// `void sweepAccAdd(long handle, int loss, float[] rows, int dim, long firstRow,
/// int[] modelIds, int[] selStart, long[] selRows, double[] selLabels,
/// double[] selWeights, double[] kernelV, double[] offsets, int iteration,
/// double fraction)`: `gradientBatch`'s arguments, model k being `modelIds[k]`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sweepAccAdd<'l>(
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
    kernel_v: JDoubleArray<'l>,
    offsets: JDoubleArray<'l>,
    iteration: jint,
    fraction: jdouble,
) {
    guard::run(&mut env, "sweepAccAdd", |env| {
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
        let ids = read_ints(env, &model_ids, "modelIds")?;
        let start = read_ints(env, &sel_start, "selStart")?;
        let v = crate::arrays::read_doubles(env, &kernel_v, "kernelV")?;
        let offsets = crate::arrays::read_doubles(env, &offsets, "offsets")?;
        ACCUMULATORS.with(handle, |acc| {
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
            selected::sweep_add(
                acc, kind, &x, dim, first_row, &ids, &start, &sel, &v, &offsets, iteration,
                fraction,
            )
        })
    })
}

/// `long[] sweepAccFinish(long handle)`: frees the accumulator and returns its sums:
/// `n`, then the `n` model ids, then their `n` sums' words (`sumWords(dim)` each).
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sweepAccFinish<'l>(
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

/// `boolean sweepAccFree(long handle)`: frees an accumulator that will not be finished
/// (a failed task); false when it was not live.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_sweepAccFree<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
) -> jboolean {
    guard::run(&mut env, "sweepAccFree", |_| {
        Ok(crate::jbool(ACCUMULATORS.remove(handle)))
    })
}
