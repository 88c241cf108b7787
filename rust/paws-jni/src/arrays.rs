//! Reading Java primitive arrays in place, and making result arrays.
//!
//! Large inputs (the `float[]` rows of a block, its labels, the weights) are read
//! through `GetPrimitiveArrayCritical` and released with `JNI_ABORT`
//! ([`ReleaseMode::NoCopyBack`]): no copy in, no copy back. The rules of a critical
//! region are kept by construction:
//! - every length is read (a JNI call) *before* the first array is pinned, so nothing
//!   but `Get/ReleasePrimitiveArrayCritical` happens while one is held; this is why
//!   [`Critical`] is used rather than `jni`'s `get_array_elements_critical`, which
//!   calls `GetArrayLength` on each acquisition;
//! - the regions are short (one block's kernel) and the guards release on drop, also
//!   while a panic unwinds, before any exception is thrown;
//! - the slices are only read: several guards may alias the same Java array.

use crate::guard::{invalid, Error, Result};
use jni::objects::{JPrimitiveArray, ReleaseMode, TypeArray};
use jni::sys::{self, jsize};
use jni::JNIEnv;
use std::marker::PhantomData;

/// The length of a non-null array argument (`what` names it in the error).
pub fn length<T: TypeArray>(env: &JNIEnv, array: &JPrimitiveArray<T>, what: &str) -> Result<usize> {
    if array.is_null() {
        return invalid(format!("{what} must not be null"));
    }
    Ok(env.get_array_length(array)? as usize)
}

/// The length of an optional array argument (`None` for a Java null).
pub fn optional_length<T: TypeArray>(
    env: &JNIEnv,
    array: &JPrimitiveArray<T>,
    what: &str,
) -> Result<Option<usize>> {
    if array.is_null() {
        Ok(None)
    } else {
        length(env, array, what).map(Some)
    }
}

/// A pinned Java array, read in place.
pub struct Critical<'a, T> {
    env: *mut sys::JNIEnv,
    array: sys::jarray,
    ptr: *mut T,
    len: usize,
    _borrow: PhantomData<&'a T>,
}

impl<'a, T: TypeArray> Critical<'a, T> {
    /// Pins `array`, whose length `len` the caller read beforehand with [`length`].
    ///
    /// # Safety
    /// `len` must be the array's length, and no other JNI call but
    /// `Get/ReleasePrimitiveArrayCritical` may happen until the guard is dropped.
    pub unsafe fn pin(env: &JNIEnv, array: &'a JPrimitiveArray<'_, T>, len: usize) -> Result<Self> {
        let raw = env.get_raw();
        let get = (**raw)
            .GetPrimitiveArrayCritical
            .ok_or_else(|| Error::Native("JNI has no GetPrimitiveArrayCritical".into()))?;
        let ptr = get(raw, array.as_raw(), std::ptr::null_mut()) as *mut T;
        if ptr.is_null() {
            if len == 0 {
                // Some JVMs give null for an empty array: nothing to release.
                return Ok(Critical {
                    env: raw,
                    array: std::ptr::null_mut(),
                    ptr: std::ptr::NonNull::dangling().as_ptr(),
                    len: 0,
                    _borrow: PhantomData,
                });
            }
            return Err(Error::Native(
                "GetPrimitiveArrayCritical failed (out of memory?)".into(),
            ));
        }
        Ok(Critical {
            env: raw,
            array: array.as_raw(),
            ptr,
            len,
            _borrow: PhantomData,
        })
    }
}

impl<T> std::ops::Deref for Critical<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // Safety: the JVM keeps the array pinned at `ptr` until the release in `drop`.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<T> Drop for Critical<'_, T> {
    fn drop(&mut self) {
        if self.array.is_null() {
            return;
        }
        // Safety: `env` is the calling thread's JNIEnv and the array is still pinned.
        unsafe {
            if let Some(release) = (**self.env).ReleasePrimitiveArrayCritical {
                release(
                    self.env,
                    self.array,
                    self.ptr.cast(),
                    ReleaseMode::NoCopyBack as sys::jint,
                );
            }
        }
    }
}

fn java_len(n: usize) -> Result<jsize> {
    jsize::try_from(n)
        .map_err(|_| Error::Invalid(format!("result of {n} values is too long for a Java array")))
}

pub fn new_long_array(env: &mut JNIEnv, values: &[i64]) -> Result<sys::jlongArray> {
    let a = env.new_long_array(java_len(values.len())?)?;
    env.set_long_array_region(&a, 0, values)?;
    Ok(a.into_raw())
}

pub fn new_double_array(env: &mut JNIEnv, values: &[f64]) -> Result<sys::jdoubleArray> {
    let a = env.new_double_array(java_len(values.len())?)?;
    env.set_double_array_region(&a, 0, values)?;
    Ok(a.into_raw())
}

/// Copies a (small) `double[]` into a `Vec`.
pub fn read_doubles(
    env: &JNIEnv,
    array: &JPrimitiveArray<'_, f64>,
    what: &str,
) -> Result<Vec<f64>> {
    let n = length(env, array, what)?;
    let mut out = vec![0.0; n];
    env.get_double_array_region(array, 0, &mut out)?;
    Ok(out)
}

/// Copies an optional (small) `double[]`.
pub fn read_optional_doubles(
    env: &JNIEnv,
    array: &JPrimitiveArray<'_, f64>,
    what: &str,
) -> Result<Option<Vec<f64>>> {
    if array.is_null() {
        Ok(None)
    } else {
        read_doubles(env, array, what).map(Some)
    }
}

/// Copies a `byte[]` (not null) into a `Vec`.
pub fn read_bytes(env: &JNIEnv, array: &jni::objects::JByteArray, what: &str) -> Result<Vec<u8>> {
    if array.is_null() {
        return invalid(format!("{what} must not be null"));
    }
    Ok(env.convert_byte_array(array)?)
}

/// Copies a `String[]` (no null elements) into a `Vec`.
pub fn read_strings(
    env: &mut JNIEnv,
    array: &jni::objects::JObjectArray,
    what: &str,
) -> Result<Vec<String>> {
    if array.is_null() {
        return invalid(format!("{what} must not be null"));
    }
    let n = env.get_array_length(array)?;
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let element = env.get_object_array_element(array, i)?;
        if element.is_null() {
            return invalid(format!("{what}[{i}] is null"));
        }
        let s = jni::objects::JString::from(element);
        let text: String = env.get_string(&s)?.into();
        env.delete_local_ref(s)?;
        out.push(text);
    }
    Ok(out)
}

pub fn new_float_array(env: &mut JNIEnv, values: &[f32]) -> Result<sys::jfloatArray> {
    let a = env.new_float_array(java_len(values.len())?)?;
    env.set_float_array_region(&a, 0, values)?;
    Ok(a.into_raw())
}

/// A Java string made from `s`.
pub fn string_result(env: &mut JNIEnv, s: String) -> Result<sys::jstring> {
    Ok(env.new_string(s)?.into_raw())
}

/// A Java string made from `s`, or null for `None`.
pub fn optional_string_result(env: &mut JNIEnv, s: Option<String>) -> Result<sys::jstring> {
    match s {
        Some(s) => string_result(env, s),
        None => Ok(std::ptr::null_mut()),
    }
}
