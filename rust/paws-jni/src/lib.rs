//! paws-jni: the only JNI boundary of paws, and nothing but the binding.
//!
//! One export file per Java class, under [`exports`]: `native_kernels.rs` for
//! `dev.paws.spark.jni.NativeKernels`, `native_experiment.rs` for
//! `dev.paws.spark.jni.NativeExperiment`, `native_breeds.rs` for
//! `dev.paws.spark.jni.NativeBreeds`. The exports check arguments, read Java arrays in
//! place and call paws-core, paws-report and paws-vision; every rule of the experiment
//! and every number is computed there, so the Spark engine gives the in-process
//! engine's bits. Native state lives behind checked handles ([`handles`], and the
//! experiment sessions of [`session`], the breed trainings of [`breeds`]).
//!
//! Every export runs inside [`guard::run`]: Rust errors and panics come out as Java
//! exceptions with the message, never as a crashed JVM. The exports only tests call
//! (`debugPanic`, `debugError`, `sgdLiveHandles`, `liveSessions`) exist with the Cargo
//! feature `test-hooks`.

mod arrays;
mod breeds;
mod exports;
mod guard;
mod handles;
mod session;

use guard::{invalid, Error, Result};
use jni::objects::JString;
use jni::sys::{jboolean, jint, JNI_FALSE, JNI_TRUE, JNI_VERSION_1_8};
use jni::JNIEnv;
use paws_core::kernels::gradient::LossKind;
use paws_core::optimiser::sgd::SgdParams;
use std::os::raw::c_void;

/// The loss codes of the contract (`NativeKernels.LOSS_HINGE` / `LOSS_LOGISTIC`).
fn loss_code(kind: LossKind) -> i32 {
    match kind {
        LossKind::Hinge => 0,
        LossKind::Logistic => 1,
    }
}

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

/// A committed file of the repository (`examples/...`), as paws-cli finds it: relative
/// to the working directory (made absolute, for Spark's readers) or, from elsewhere, to
/// the source tree this library was built from.
fn repo_file(rel: &str) -> std::path::PathBuf {
    let rel = std::path::Path::new(rel);
    if rel.exists() {
        return std::path::absolute(rel).unwrap_or_else(|_| rel.to_path_buf());
    }
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
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

/// Checks the shape of a block from array lengths alone (before pinning anything): its
/// number of rows.
fn block_rows(n_values: usize, dim: usize) -> Result<usize> {
    if n_values % dim != 0 {
        return invalid(format!(
            "rows has {n_values} values, not a multiple of dim {dim}"
        ));
    }
    Ok(n_values / dim)
}

/// `JNI_OnLoad`: installs the panic hook as soon as the library is loaded.
#[no_mangle]
pub extern "system" fn JNI_OnLoad(_vm: *mut jni::sys::JavaVM, _reserved: *mut c_void) -> jint {
    guard::install_panic_hook();
    JNI_VERSION_1_8
}
