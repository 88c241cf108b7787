//! JNI exports of `dev.paws.spark.jni.NativeExperiment`: the experiment session of
//! [`crate::session`], for `PetBreedExperiment`. Small arguments (names, JSON) are
//! copied; results are JSON strings or primitive arrays.

use crate::arrays::{
    self, length, new_double_array, new_float_array, new_long_array, optional_string_result,
    read_strings, string_result,
};
use crate::guard::{self, invalid, Error};
use crate::handles;
use crate::session as experiment;
use crate::string_arg;
use jni::objects::{JByteArray, JClass, JDoubleArray, JLongArray, JObjectArray, JString};
use jni::sys::{
    jboolean, jdoubleArray, jfloatArray, jint, jlong, jlongArray, jstring, JNI_FALSE, JNI_TRUE,
};
use jni::JNIEnv;
use paws_core::model::eval::Confusion;
use paws_core::optimiser::standardize::Scaling;
use std::path::Path;

/// `String usage(String[] args)`: `paws experiment --help` (or the version) when the
/// arguments ask for it, else null.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_usage<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    args: JObjectArray<'l>,
) -> jstring {
    guard::run(&mut env, "usage", |env| {
        let args = read_strings(env, &args, "args")?;
        let text = experiment::usage(&args)?;
        optional_string_result(env, text)
    })
}

/// `long create(String[] args)`: a session from `paws experiment`'s arguments; a bad
/// argument is an `IllegalArgumentException` with the CLI's message.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_create<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    args: JObjectArray<'l>,
) -> jlong {
    guard::run(&mut env, "create", |env| {
        let args = read_strings(env, &args, "args")?;
        experiment::create(&args)
    })
}

/// `String info(long h)`: the run's settings as JSON.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_info<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jstring {
    guard::run(&mut env, "info", |env| {
        let s = experiment::with(h, |s| Ok(s.info()))?;
        string_result(env, s)
    })
}

/// `String setData(long h, String[] images, String[] breeds, int dim, String extractor,
/// String sourceName)`: the dataset's rows in order; returns the plan as JSON.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_setData<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    images: JObjectArray<'l>,
    breeds: JObjectArray<'l>,
    dim: jint,
    extractor: JString<'l>,
    source_name: JString<'l>,
) -> jstring {
    guard::run(&mut env, "setData", |env| {
        let images = read_strings(env, &images, "images")?;
        let breeds = read_strings(env, &breeds, "breeds")?;
        if dim <= 0 {
            return invalid(format!("dim must be positive, got {dim}"));
        }
        let extractor = string_arg(env, &extractor, "extractor")?;
        let source_name = string_arg(env, &source_name, "sourceName")?;
        let plan = experiment::with(h, |s| {
            s.set_data(images, breeds, dim as usize, extractor, source_name)
        })?;
        string_result(env, plan)
    })
}

/// `long[] trainRows(long h, int task)`: the task's training rows (global, ascending).
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_trainRows<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    task: jint,
) -> jlongArray {
    guard::run(&mut env, "trainRows", |env| {
        let v = experiment::with(h, |s| s.train_rows(task))?;
        new_long_array(env, &v)
    })
}

/// `double[] trainLabels(long h, int task)`: 0/1 per training row.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_trainLabels<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    task: jint,
) -> jdoubleArray {
    guard::run(&mut env, "trainLabels", |env| {
        let v = experiment::with(h, |s| s.train_labels(task))?;
        new_double_array(env, &v)
    })
}

/// `double[] trainWeights(long h, int task)`: per-row weights with `--class-weighting`,
/// else null.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_trainWeights<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    task: jint,
) -> jdoubleArray {
    guard::run(&mut env, "trainWeights", |env| {
        match experiment::with(h, |s| s.train_weights(task))? {
            Some(v) => new_double_array(env, &v),
            None => Ok(std::ptr::null_mut()),
        }
    })
}

/// `long[] testRows(long h, int task)`: the task's test rows (global, ascending).
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_testRows<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    task: jint,
) -> jlongArray {
    guard::run(&mut env, "testRows", |env| {
        let v = experiment::with(h, |s| s.test_rows(task))?;
        new_long_array(env, &v)
    })
}

/// `double[] testLabels(long h, int task)`: 0/1 per test row.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_testLabels<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    task: jint,
) -> jdoubleArray {
    guard::run(&mut env, "testLabels", |env| {
        let v = experiment::with(h, |s| s.test_labels(task))?;
        new_double_array(env, &v)
    })
}

/// `long sgdCreate(long h, int task, double[] mean, double[] invStd)`: an SGD state (a
/// `NativeKernels` SGD handle: drive it with `sgdKernelWeights`/`sgdApply`, free it with
/// `sgdFree`) for the task; the scaling arrays are given exactly when `--scale
/// standard`.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_sgdCreate<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    task: jint,
    mean: JDoubleArray<'l>,
    inv_std: JDoubleArray<'l>,
) -> jlong {
    guard::run(&mut env, "sgdCreate", |env| {
        let mean = arrays::read_optional_doubles(env, &mean, "mean")?;
        let inv_std = arrays::read_optional_doubles(env, &inv_std, "invStd")?;
        let scaling = match (mean, inv_std) {
            (None, None) => None,
            (Some(mean), Some(inv_std)) => {
                if mean.len() != inv_std.len() {
                    return invalid(format!(
                        "mean has {} values, invStd {}",
                        mean.len(),
                        inv_std.len()
                    ));
                }
                if mean.iter().chain(&inv_std).any(|v| !v.is_finite()) {
                    return invalid("scaling statistics must be finite");
                }
                Some(Scaling { mean, inv_std })
            }
            _ => return invalid("mean and invStd must both be null or both given"),
        };
        if let Some(s) = &scaling {
            let dim = experiment::with(h, |x| x.dim())?;
            if s.mean.len() != dim {
                return invalid(format!("scaling has {} values for dim {dim}", s.mean.len()));
            }
        }
        let sgd = experiment::with(h, |s| s.sgd(task, scaling))?;
        Ok(handles::insert(sgd))
    })
}

/// `String finish(long h, int task, long sgd, long[] confusion, double seconds)`: the
/// task's trained state and its `{tp, fp, tn, fn}` on the test rows; returns
/// `{"row": …, "warning": …}` as JSON (the table row as `paws experiment` makes it).
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_finish<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    task: jint,
    sgd: jlong,
    confusion: JLongArray<'l>,
    seconds: jni::sys::jdouble,
) -> jstring {
    guard::run(&mut env, "finish", |env| {
        if length(env, &confusion, "confusion")? != 4 {
            return invalid("confusion must be {tp, fp, tn, fn}");
        }
        let mut c = [0i64; 4];
        env.get_long_array_region(&confusion, 0, &mut c)?;
        if c.iter().any(|&v| v < 0) {
            return invalid(format!("confusion counts must be >= 0, got {c:?}"));
        }
        let confusion = Confusion {
            tp: c[0] as u64,
            fp: c[1] as u64,
            tn: c[2] as u64,
            fn_: c[3] as u64,
        };
        let state = handles::with(sgd, |s| Ok(s.clone()))?;
        let out = experiment::with(h, |s| s.finish(task, &state, confusion, seconds))?;
        string_result(env, out)
    })
}

/// `String writeReport(long h, String localDir)`: results.csv/.json/.md, accuracy.png
/// and models/ into a local folder; returns `{"table", "flagged", "files"}` as JSON.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_writeReport<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    local_dir: JString<'l>,
) -> jstring {
    guard::run(&mut env, "writeReport", |env| {
        let dir = string_arg(env, &local_dir, "localDir")?;
        let out = experiment::with(h, |s| s.write_report(Path::new(&dir)))?;
        string_result(env, out)
    })
}

/// `boolean free(long h)`: frees the session; false (no exception) when not live.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_free<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jboolean {
    guard::run(&mut env, "free", |_| {
        Ok(if experiment::free(h) {
            JNI_TRUE
        } else {
            JNI_FALSE
        })
    })
}

/// `int liveSessions()`: sessions not yet freed (for leak checks).
#[cfg(feature = "test-hooks")]
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_liveSessions<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
) -> jint {
    guard::run(&mut env, "liveSessions", |_| {
        Ok(experiment::live().min(i32::MAX as usize) as jint)
    })
}

/// `String runInProcess(String[] args, String localDir, String[] images,
/// String[] breeds, float[] rows, int dim, String extractor)`: `paws experiment` in this
/// process (its engine), its output folder written to `localDir`. With null `images`,
/// the features are a legacy folder read with the CLI's reader; otherwise the rows
/// (row-major, `dim` wide, in the CLI's row order) are the dataset. Test builds only:
/// it is the reference PetBreedExperimentTest compares the Spark run with.
#[cfg(feature = "test-hooks")]
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_runInProcess<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    args: JObjectArray<'l>,
    local_dir: JString<'l>,
    images: JObjectArray<'l>,
    breeds: JObjectArray<'l>,
    rows: jni::objects::JFloatArray<'l>,
    dim: jint,
    extractor: JString<'l>,
) -> jstring {
    guard::run(&mut env, "runInProcess", |env| {
        let args = read_strings(env, &args, "args")?;
        let dir = string_arg(env, &local_dir, "localDir")?;
        let given = if images.is_null() {
            None
        } else {
            let n = length(env, &rows, "rows")?;
            let mut features = vec![0f32; n];
            env.get_float_array_region(&rows, 0, &mut features)?;
            if dim <= 0 {
                return invalid(format!("dim must be positive, got {dim}"));
            }
            Some(experiment::GivenRows {
                images: read_strings(env, &images, "images")?,
                breeds: read_strings(env, &breeds, "breeds")?,
                features,
                dim: dim as usize,
                extractor: string_arg(env, &extractor, "extractor")?,
            })
        };
        let out = experiment::run_in_process(&args, Path::new(&dir), given)?;
        string_result(env, out)
    })
}

/// `String legacyIndex(String[] fileNames)`: legacy feature file names sorted as
/// `paws experiment` reads them, with their images and breeds, as JSON.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_legacyIndex<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    names: JObjectArray<'l>,
) -> jstring {
    guard::run(&mut env, "legacyIndex", |env| {
        let names = read_strings(env, &names, "fileNames")?;
        let out = experiment::legacy_index(names)?;
        string_result(env, out)
    })
}

/// `float[] parseLegacyFile(String fileName, byte[] bytes)`: one legacy file's features
/// (a flat JSON array), parsed by paws-core as `paws experiment` parses it.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeExperiment_parseLegacyFile<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    name: JString<'l>,
    bytes: JByteArray<'l>,
) -> jfloatArray {
    guard::run(&mut env, "parseLegacyFile", |env| {
        let name = string_arg(env, &name, "fileName")?;
        if bytes.is_null() {
            return invalid("bytes must not be null");
        }
        let b = env.convert_byte_array(&bytes).map_err(Error::from)?;
        let v = experiment::parse_legacy_file(&name, &b)?;
        new_float_array(env, &v)
    })
}
