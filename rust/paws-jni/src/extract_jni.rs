//! Feature extraction from image bytes: paws-vision behind JNI.
//!
//! Spark executors read photos as `byte[]` (`binaryFile`, any Hadoop path) and the ONNX
//! model as broadcast bytes; these exports decode, preprocess and run the same
//! [`Extractor`] as `paws extract`, so a photo gives the same features on both engines.
//!
//! An extractor is loaded once per executor JVM and shared by its task threads: the
//! handle holds an `Arc<Extractor>` (tract plans run concurrently from `&self`), and the
//! table lock is held only to clone the `Arc`, never while an image runs.

use crate::arrays::new_float_array;
use crate::guard::{self, invalid, Error, Result};
use crate::handles::Handles;
use crate::{positive, string_arg};
use jni::objects::{JByteArray, JClass, JString};
use jni::sys::{jboolean, jfloatArray, jint, jlong, jstring};
use jni::JNIEnv;
use paws_vision::{Extractor, ModelOptions, VisionError};
use std::path::Path;
use std::sync::Arc;

static EXTRACTORS: Handles<Arc<Extractor>> = Handles::new("extractor");

impl From<VisionError> for Error {
    fn from(e: VisionError) -> Self {
        match e {
            // The caller's data: an unreadable photo or model, a bad output name.
            VisionError::Decode { .. }
            | VisionError::Model { .. }
            | VisionError::BadFileName { .. }
            | VisionError::InvalidInput(_) => Error::Invalid(e.to_string()),
            VisionError::Io { .. } => Error::Io(e.to_string()),
            VisionError::Core(c) => c.into(),
            e => Error::Native(e.to_string()),
        }
    }
}

fn extractor(h: jlong) -> Result<Arc<Extractor>> {
    EXTRACTORS.with(h, |e| Ok(Arc::clone(e)))
}

fn bytes_arg(env: &JNIEnv, array: &JByteArray, what: &str) -> Result<Vec<u8>> {
    if array.is_null() {
        return invalid(format!("{what} must not be null"));
    }
    Ok(env.convert_byte_array(array)?)
}

fn optional_string(env: &mut JNIEnv, s: &JString, what: &str) -> Result<Option<String>> {
    if s.is_null() {
        Ok(None)
    } else {
        string_arg(env, s, what).map(Some)
    }
}

/// `long extractorOpen(byte[] model, String name, int inputSize, String featuresOutput,
/// String modelId)`: loads an ONNX model from its bytes; `name` (its path) stands for
/// the file in errors; `modelId` may be null (the ONNX metadata, else the file stem).
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_extractorOpen<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    model: JByteArray<'l>,
    name: JString<'l>,
    input_size: jint,
    features_output: JString<'l>,
    model_id: JString<'l>,
) -> jlong {
    guard::run(&mut env, "extractorOpen", |env| {
        let name = string_arg(env, &name, "name")?;
        let input_size = positive(input_size, "inputSize")? as u32;
        let features_output = string_arg(env, &features_output, "featuresOutput")?;
        let model_id = optional_string(env, &model_id, "modelId")?;
        let bytes = bytes_arg(env, &model, "model")?;
        let options = ModelOptions {
            input_size,
            features_output,
            logits_output: None,
            model_id,
        };
        let ex = Extractor::load_bytes(&bytes, Path::new(&name), options)?;
        Ok(EXTRACTORS.insert(Arc::new(ex)))
    })
}

/// `int extractorDim(long handle)`: the feature dimension.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_extractorDim<'l>(
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
pub extern "system" fn Java_dev_paws_spark_NativeKernels_extractorModelId<'l>(
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
pub extern "system" fn Java_dev_paws_spark_NativeKernels_extractImage<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    handle: jlong,
    image: JByteArray<'l>,
    name: JString<'l>,
) -> jfloatArray {
    guard::run(&mut env, "extractImage", |env| {
        let ex = extractor(handle)?;
        let name = string_arg(env, &name, "name")?;
        let bytes = bytes_arg(env, &image, "image")?;
        let out = ex.run_bytes(&bytes, &name)?;
        new_float_array(env, &out.features)
    })
}

/// `boolean extractorClose(long handle)`: frees the extractor (images running on it
/// finish first); false when the handle was not live.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_NativeKernels_extractorClose<'l>(
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
pub extern "system" fn Java_dev_paws_spark_NativeKernels_breedOfFileName<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    file_name: JString<'l>,
) -> jstring {
    guard::run(&mut env, "breedOfFileName", |env| {
        let name = string_arg(env, &file_name, "fileName")?;
        match paws_core::dataset::breed_from_file_name(&name) {
            Some(b) => Ok(env.new_string(b)?.into_raw()),
            None => Ok(std::ptr::null_mut()),
        }
    })
}
