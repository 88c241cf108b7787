//! JNI exports of `dev.paws.spark.jni.NativeBreeds`: the breed training of
//! [`crate::breeds`], for `TrainBreeds`. Names and JSON are copied; the features of a
//! file come as one `float[]`.

use crate::arrays::{length, optional_string_result, read_strings, string_result};
use crate::breeds;
use crate::guard::{self, invalid};
use crate::string_arg;
use jni::objects::{JClass, JFloatArray, JObjectArray, JString};
use jni::sys::{jboolean, jint, jlong, jstring, JNI_FALSE, JNI_TRUE};
use jni::JNIEnv;
use std::path::Path;

/// `String usage(String[] args)`: `paws train-breeds --help` (or the version) when the
/// arguments ask for it, else null.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeBreeds_usage<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    args: JObjectArray<'l>,
) -> jstring {
    guard::run(&mut env, "usage", |env| {
        let args = read_strings(env, &args, "args")?;
        let text = breeds::usage(&args)?;
        optional_string_result(env, text)
    })
}

/// `long create(String[] args)`: a training from `paws train-breeds` arguments.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeBreeds_create<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    args: JObjectArray<'l>,
) -> jlong {
    guard::run(&mut env, "create", |env| {
        let args = read_strings(env, &args, "args")?;
        breeds::create(&args)
    })
}

/// `String info(long h)`: `{"features": [...], "default_features", "output"}`.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeBreeds_info<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jstring {
    guard::run(&mut env, "info", |env| {
        let s = breeds::with(h, |t| Ok(t.info()))?;
        string_result(env, s)
    })
}

/// `void addPart(long h, String[] images, String[] breeds, float[] features, int dim,
/// String extractor, String source)`: one feature file's rows, in its order.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_paws_spark_jni_NativeBreeds_addPart<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    images: JObjectArray<'l>,
    breed_names: JObjectArray<'l>,
    features: JFloatArray<'l>,
    dim: jint,
    extractor: JString<'l>,
    source: JString<'l>,
) {
    guard::run(&mut env, "addPart", |env| {
        if dim <= 0 {
            return invalid(format!("dim must be positive, got {dim}"));
        }
        let images = read_strings(env, &images, "images")?;
        let breed_names = read_strings(env, &breed_names, "breeds")?;
        let n = length(env, &features, "features")?;
        let mut values = vec![0f32; n];
        env.get_float_array_region(&features, 0, &mut values)?;
        let extractor = string_arg(env, &extractor, "extractor")?;
        let source = string_arg(env, &source, "source")?;
        breeds::with(h, |t| {
            t.add_part(images, breed_names, values, dim as usize, extractor, source)
        })
    })
}

/// `String train(long h, String localDir)`: trains and writes the model and its
/// confusion files into `localDir`; returns `{"files": [...], "summary"}`.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeBreeds_train<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
    local_dir: JString<'l>,
) -> jstring {
    guard::run(&mut env, "train", |env| {
        let dir = string_arg(env, &local_dir, "localDir")?;
        let out = breeds::with(h, |t| t.train(Path::new(&dir)))?;
        string_result(env, out)
    })
}

/// `boolean free(long h)`: false when the handle was already freed.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeBreeds_free<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    h: jlong,
) -> jboolean {
    guard::run(&mut env, "free", |_| {
        Ok(if breeds::free(h) { JNI_TRUE } else { JNI_FALSE })
    })
}

/// `int liveTrainings()`: trainings not yet freed (tests of the handle lifecycle).
#[cfg(feature = "test-hooks")]
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeBreeds_liveTrainings<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
) -> jint {
    guard::run(&mut env, "liveTrainings", |_| Ok(breeds::live() as jint))
}
