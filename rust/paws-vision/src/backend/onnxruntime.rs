//! The onnxruntime backend: the ort crate with `load-dynamic`, so nothing is downloaded
//! or linked at build time; the `libonnxruntime` is opened when the first extractor asks
//! for it (the one the `onnxruntime` PyPI wheel ships in `onnxruntime/capi/` works).
//!
//! One library per process: ort keeps the first one it opened, so asking for another
//! path later is an error naming both.

use super::{Engine, Loaded, Request};
use crate::error::{Result, VisionError};
use crate::extractor::MODEL_ID_KEY;
use ort::environment::Environment;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::session::Session;
use ort::value::TensorRef;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The environment variable ort reads for the library, which paws follows too.
pub const LIBRARY_ENV: &str = "ORT_DYLIB_PATH";

/// How to run onnxruntime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnnxRuntimeOptions {
    /// The `libonnxruntime` shared library (1.17 or newer); `None` takes
    /// `$ORT_DYLIB_PATH`.
    pub library: Option<PathBuf>,
    /// Sessions to run images on concurrently (each holds its own copy of the weights);
    /// 0 for one per rayon thread.
    pub sessions: usize,
    /// onnxruntime's intra-op threads per session; 0 for the rayon threads shared out
    /// among the sessions.
    pub intra_threads: usize,
}

impl Default for OnnxRuntimeOptions {
    /// One session per rayon thread, each with one intra-op thread: images run side by
    /// side as with tract. On 2 cores (issue 13, EfficientNet-Lite0, the 600 sample
    /// photos through `extract_folder`, `examples/backends.rs`, 6 interleaved rounds on a
    /// shared machine) this beat one session with 2 intra-op threads fed one image at a
    /// time in 4 rounds of 6, by 1.27-1.54x (e.g. 136 against 105 images/s), and lost
    /// two by at most 0.77x under heavy load: decoding and preprocessing (about a fifth
    /// of the work) overlap with inference instead of queueing for the one session, and
    /// no layer's work is split and joined across threads.
    fn default() -> Self {
        OnnxRuntimeOptions {
            library: None,
            sessions: 0,
            intra_threads: 0,
        }
    }
}

impl OnnxRuntimeOptions {
    /// The library to open: [`Self::library`], else `$ORT_DYLIB_PATH`.
    pub fn library_path(&self) -> Result<PathBuf> {
        self.library
            .clone()
            .or_else(|| std::env::var_os(LIBRARY_ENV).filter(|p| !p.is_empty()).map(PathBuf::from))
            .ok_or_else(|| {
                VisionError::InvalidInput(format!(
                    "the onnxruntime backend needs its library: pass --onnxruntime-lib PATH or set \
                     {LIBRARY_ENV} (`pip install onnxruntime` ships onnxruntime/capi/libonnxruntime.so.1.*)"
                ))
            })
    }
}

/// The library ort opened, and the environment all sessions share.
static RUNTIME: Mutex<Option<(PathBuf, Environment)>> = Mutex::new(None);

fn library_error(library: &Path, message: impl std::fmt::Display) -> VisionError {
    VisionError::Backend {
        library: library.to_path_buf(),
        message: message.to_string(),
    }
}

/// Why the library did not load: for a failed `dlopen`, the system's reason (not a
/// library, a missing dependency, `GLIBC_2.28 not found`), which ort's message leaves out.
fn load_failure(e: &ort::LoadDynamicError) -> String {
    if let ort::LoadDynamicError::Dlopen { error, .. } = e {
        if let Some(reason) = std::error::Error::source(error) {
            return format!("dlopen failed: {reason}");
        }
    }
    e.to_string()
}

/// Opens `library` (once per process) and returns the shared environment.
fn environment(library: &Path) -> Result<Environment> {
    // An absolute path: ort would resolve a relative one against the executable's folder.
    let library = std::path::absolute(library).map_err(|e| library_error(library, e))?;
    if !library.is_file() {
        return Err(library_error(&library, "no such file"));
    }
    let mut runtime = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((loaded, env)) = runtime.as_ref() {
        let same = |p: &Path| std::fs::canonicalize(p).ok();
        if same(loaded) != same(&library) {
            return Err(library_error(
                &library,
                format!(
                    "onnxruntime is already loaded from {} in this process (one library per process)",
                    loaded.display()
                ),
            ));
        }
        return Ok(env.clone());
    }
    let env = ort::init_from(&library)
        .map_err(|e| library_error(&library, load_failure(&e)))?
        .with_name("paws")
        .build()
        .map_err(|e| library_error(&library, e))?;
    log::info!("onnxruntime loaded from {}", library.display());
    *runtime = Some((library, env.clone()));
    Ok(env)
}

/// Sessions of one model, each run by one thread at a time (ort's `Session::run` takes
/// `&mut self`).
pub(crate) struct OrtEngine {
    sessions: Vec<Mutex<Session>>,
    outputs: Vec<String>,
    library: PathBuf,
}

impl std::fmt::Debug for OrtEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtEngine")
            .field("sessions", &self.sessions.len())
            .field("outputs", &self.outputs)
            .field("library", &self.library)
            .finish()
    }
}

pub(crate) fn load(
    options: &OnnxRuntimeOptions,
    bytes: &[u8],
    request: &Request,
) -> Result<Loaded> {
    let path = request.path;
    let library = options.library_path()?;
    let env = environment(&library)?;
    let threads = rayon::current_num_threads().max(1);
    let sessions = if options.sessions == 0 {
        threads
    } else {
        options.sessions
    };
    let intra = if options.intra_threads == 0 {
        (threads / sessions).max(1)
    } else {
        options.intra_threads
    };
    let err = |e: ort::Error| VisionError::model(path, format!("onnxruntime: {e}"));
    let err_b =
        |e: ort::Error<SessionBuilder>| VisionError::model(path, format!("onnxruntime: {e}"));
    let open = || -> Result<Session> {
        Session::builder(&env)
            .map_err(err)?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(err_b)?
            .with_intra_threads(intra)
            .map_err(err_b)?
            .with_inter_threads(1)
            .map_err(err_b)?
            // A thread left without work sleeps rather than spins: rayon's other
            // workers (decoding) need the core.
            .with_intra_op_spinning(false)
            .map_err(err_b)?
            .commit_from_memory(bytes)
            .map_err(err)
    };
    let first = open()?;
    if first.inputs().len() != 1 {
        return Err(VisionError::model(
            path,
            "the model must have exactly one input",
        ));
    }
    let names: Vec<&str> = first.outputs().iter().map(|o| o.name()).collect();
    if let Some(missing) = request
        .outputs
        .iter()
        .find(|o| !names.contains(&o.as_str()))
    {
        return Err(VisionError::model(
            path,
            format!(
                "output '{missing}' not found (the model's outputs are {names:?}); set the output names in ModelOptions"
            ),
        ));
    }
    let metadata_id = first.metadata().ok().and_then(|m| m.custom(MODEL_ID_KEY));
    let mut all = vec![Mutex::new(first)];
    for _ in 1..sessions {
        all.push(Mutex::new(open()?));
    }
    let engine = OrtEngine {
        sessions: all,
        outputs: request.outputs.to_vec(),
        library,
    };
    // The widths from a run on a blank image: the outputs' declared shapes have a
    // symbolic batch dimension and may have others.
    let s = request.input_size;
    let blank = engine.run(&vec![0.0; 3 * s * s], s).map_err(|e| {
        VisionError::model(
            path,
            format!("onnxruntime cannot run it on [1, 3, {s}, {s}]: {e}"),
        )
    })?;
    let widths = blank.iter().map(Vec::len).collect();
    log::info!(
        "{}: onnxruntime, {sessions} session(s) of {intra} intra-op thread(s)",
        path.display()
    );
    Ok(Loaded {
        engine: Engine::OnnxRuntime(Arc::new(engine)),
        metadata_id,
        widths,
    })
}

impl OrtEngine {
    pub(crate) fn run(&self, input: &[f32], s: usize) -> Result<Vec<Vec<f32>>, String> {
        // A rayon worker takes its own session; other threads take a free one, or wait.
        let n = self.sessions.len();
        let home = rayon::current_thread_index().unwrap_or(0) % n;
        let mut session = (0..n)
            .find_map(|i| self.sessions[(home + i) % n].try_lock().ok())
            .unwrap_or_else(|| {
                self.sessions[home]
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
            });
        let tensor =
            TensorRef::from_array_view(([1usize, 3, s, s], input)).map_err(|e| e.to_string())?;
        let outputs = session
            .run(ort::inputs![tensor])
            .map_err(|e| format!("onnxruntime ({}): {e}", self.library.display()))?;
        self.outputs
            .iter()
            .map(|name| {
                outputs[name.as_str()]
                    .try_extract_tensor::<f32>()
                    .map(|(_, values)| values.to_vec())
                    .map_err(|e| format!("output '{name}': {e}"))
            })
            .collect()
    }
}
