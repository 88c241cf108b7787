//! A missing or unusable onnxruntime library is an error naming the path and the reason,
//! never a panic. Its own test binary: ort keeps the first library a process opens.
#![cfg(feature = "onnxruntime")]

mod common;

use paws_vision::{Backend, Extractor, ModelOptions, OnnxRuntimeOptions, VisionError};
use std::path::Path;

fn load(library: &Path) -> VisionError {
    let backend = Backend::OnnxRuntime(OnnxRuntimeOptions {
        library: Some(library.to_path_buf()),
        ..OnnxRuntimeOptions::default()
    });
    let options = ModelOptions {
        input_size: 32,
        ..ModelOptions::default()
    };
    Extractor::load_with(&common::tiny_model(), options, &backend).unwrap_err()
}

#[test]
fn bad_library_paths_are_named_errors() {
    let missing = Path::new("/nonexistent/libonnxruntime.so.1.20.0");
    let msg = load(missing).to_string();
    assert_eq!(
        msg,
        "/nonexistent/libonnxruntime.so.1.20.0: cannot load onnxruntime: no such file"
    );

    // A file that is not a shared library: dlopen's reason, with the path.
    let dir = tempfile::tempdir().unwrap();
    let fake = common::write(dir.path(), "libonnxruntime.so", b"not an ELF file");
    let err = load(&fake);
    let msg = err.to_string();
    assert!(matches!(err, VisionError::Backend { .. }), "{msg}");
    assert!(
        msg.starts_with(&format!("{}: cannot load onnxruntime: ", fake.display())),
        "{msg}"
    );
    // dlerror's text names the file and says why.
    assert!(
        msg.contains("dlopen failed: ") && msg.contains("libonnxruntime.so: "),
        "{msg}"
    );
}

#[test]
fn unknown_backend_names_the_choices() {
    let msg = Backend::from_name("openvino", None)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("'openvino'") && msg.contains("tract, onnxruntime"),
        "{msg}"
    );
    assert_eq!(Backend::from_name("tract", None).unwrap(), Backend::Tract);
    assert_eq!(
        Backend::from_name("onnxruntime", Some("/x/lib.so".into()))
            .unwrap()
            .name(),
        "onnxruntime"
    );
}
