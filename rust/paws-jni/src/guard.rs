//! The wall around every export: panics and Rust errors become Java exceptions.
//!
//! A panic must never unwind across `extern "system"` (since Rust 1.81 that aborts the
//! JVM, killing a Spark executor with it). Each export runs its body through [`run`],
//! which catches the panic, throws a Java exception carrying the message and the
//! location, and returns a neutral value that Java never sees (a pending exception
//! takes precedence over the return value).
//!
//! Mapping (what a Java caller can catch):
//! - bad shapes, indices, handles, nulls, arguments ([`Error::Invalid`]) throw
//!   `java.lang.IllegalArgumentException`;
//! - I/O errors ([`Error::Io`]) throw `java.io.IOException`;
//! - panics and other Rust errors ([`Error::Native`]) throw
//!   `dev.paws.spark.jni.PawsNativeException`;
//! - when a JNI call already raised a Java exception ([`Error::JavaPending`], for
//!   example an `OutOfMemoryError` allocating the result), it is left as it is.

use jni::JNIEnv;
use paws_core::PawsError;
use std::any::Any;
use std::cell::RefCell;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

pub const ILLEGAL_ARGUMENT: &str = "java/lang/IllegalArgumentException";
pub const IO_EXCEPTION: &str = "java/io/IOException";
pub const NATIVE_EXCEPTION: &str = "dev/paws/spark/jni/PawsNativeException";
const RUNTIME_EXCEPTION: &str = "java/lang/RuntimeException";

#[derive(Debug)]
pub enum Error {
    Invalid(String),
    Io(String),
    Native(String),
    JavaPending,
}

pub type Result<T> = std::result::Result<T, Error>;

pub fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(Error::Invalid(msg.into()))
}

/// An error in what the user asked for or gave (arguments, classes, files): an
/// `IllegalArgumentException` (or an `IOException`) with the message the CLI prints.
pub fn user(e: PawsError) -> Error {
    match e {
        PawsError::Io { .. } => Error::Io(e.to_string()),
        e => Error::Invalid(e.to_string()),
    }
}

impl From<PawsError> for Error {
    fn from(e: PawsError) -> Self {
        match e {
            PawsError::InvalidArgument(m) => Error::Invalid(m),
            e @ PawsError::Io { .. } => Error::Io(e.to_string()),
            e => Error::Native(e.to_string()),
        }
    }
}

impl From<jni::errors::Error> for Error {
    fn from(e: jni::errors::Error) -> Self {
        match e {
            jni::errors::Error::JavaException => Error::JavaPending,
            e => Error::Native(format!("JNI: {e}")),
        }
    }
}

/// The value an export returns when it has thrown.
pub trait Fallback {
    fn fallback() -> Self;
}

macro_rules! fallback_default {
    ($($t:ty),*) => { $(impl Fallback for $t { fn fallback() -> Self { Default::default() } })* };
}
fallback_default!((), i32, i64, u8, f64);

impl Fallback for jni::sys::jobject {
    fn fallback() -> Self {
        std::ptr::null_mut()
    }
}

thread_local! {
    /// The last panic on this thread, as the hook formatted it.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Panics so far (expected ones aside): the first prints a backtrace.
static PANICS: AtomicUsize = AtomicUsize::new(0);

#[cfg(feature = "test-hooks")]
thread_local! {
    /// Set by a test hook just before it panics on purpose: the hook records that panic
    /// for the exception as usual but does not write it to stderr.
    static EXPECTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Test builds only: the next panic on this thread is provoked on purpose; it still
/// becomes a `PawsNativeException` with its message and location, quietly.
#[cfg(feature = "test-hooks")]
pub fn expect_panic() {
    EXPECTED.with(|e| e.set(true));
}

/// Whether this panic was announced by [`expect_panic`] (and forget the announcement).
#[cfg(feature = "test-hooks")]
fn take_expected() -> bool {
    EXPECTED.try_with(|e| e.replace(false)).unwrap_or(false)
}

/// The shipped library has no test hooks: every panic is logged.
#[cfg(not(feature = "test-hooks"))]
fn take_expected() -> bool {
    false
}

/// Installs (once per process) a panic hook that records the message and location for
/// the exception, and writes them to stderr: on Spark that is the executor's log. The
/// first panic of the process comes with a backtrace; later ones are one line each (so
/// that a task failing in a loop cannot flood the executor log), with a backtrace only
/// when `RUST_BACKTRACE` (or `RUST_LIB_BACKTRACE`) asks for one.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let msg = payload_message(info.payload());
            let at = info
                .location()
                .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_default();
            let _ =
                LAST_PANIC.try_with(|p| *p.borrow_mut() = Some(format!("Rust panic{at}: {msg}")));
            if take_expected() {
                return;
            }
            let thread = std::thread::current();
            let thread = thread.name().unwrap_or("<unnamed>");
            let trace = if PANICS.fetch_add(1, Ordering::Relaxed) == 0 {
                std::backtrace::Backtrace::force_capture()
            } else {
                std::backtrace::Backtrace::capture()
            };
            let trace = match trace.status() {
                std::backtrace::BacktraceStatus::Captured => format!("\n{trace}"),
                _ => String::new(),
            };
            // Not eprintln!: a failing write must not panic inside the hook.
            let _ = writeln!(
                std::io::stderr(),
                "paws-jni: Rust panic in thread '{thread}'{at}: {msg}{trace}"
            );
        }));
    });
}

fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

/// Runs an export's body: returns its value, or throws and returns the fallback.
pub fn run<'local, R: Fallback>(
    env: &mut JNIEnv<'local>,
    name: &str,
    body: impl FnOnce(&mut JNIEnv<'local>) -> Result<R>,
) -> R {
    install_panic_hook();
    let outcome = catch_unwind(AssertUnwindSafe(|| body(env)));
    match outcome {
        Ok(Ok(value)) => value,
        Ok(Err(e)) => {
            throw(env, name, e);
            R::fallback()
        }
        Err(payload) => {
            let msg = LAST_PANIC
                .try_with(|p| p.borrow_mut().take())
                .ok()
                .flatten()
                .unwrap_or_else(|| format!("Rust panic: {}", payload_message(&*payload)));
            throw(env, name, Error::Native(msg));
            R::fallback()
        }
    }
}

/// Throws `e` as a Java exception unless one is already pending.
fn throw(env: &mut JNIEnv, name: &str, e: Error) {
    if env.exception_check().unwrap_or(true) {
        return;
    }
    let (class, msg) = match e {
        Error::Invalid(m) => (ILLEGAL_ARGUMENT, m),
        Error::Io(m) => (IO_EXCEPTION, m),
        Error::Native(m) => (NATIVE_EXCEPTION, m),
        Error::JavaPending => (
            NATIVE_EXCEPTION,
            "a JNI call failed without a Java exception".to_string(),
        ),
    };
    let msg = format!("paws {name}: {msg}");
    if env.throw_new(class, &msg).is_err() {
        // The exception class itself could not be loaded: fall back to a class that
        // always exists, keeping the message.
        let _ = env.exception_clear();
        let _ = env.throw_new(RUNTIME_EXCEPTION, &msg);
    }
}
