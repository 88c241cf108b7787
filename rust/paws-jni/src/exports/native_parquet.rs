//! JNI exports of `dev.paws.spark.jni.NativeParquet`: a features Parquet file read in
//! pieces (`paws_core::data::parquet_ranges`) from bytes the JVM fetched through
//! Hadoop's `FileSystem`. Bad files are `IllegalArgumentException`s naming the file,
//! the column and the row, as `paws experiment` names them.

use crate::arrays::{length, new_float_array, read_bytes, string_result};
use crate::guard::{self, invalid, user, Result};
use crate::string_arg;
use jni::objects::{JByteArray, JClass, JLongArray, JObjectArray, JString};
use jni::sys::{jfloatArray, jint, jlong, jstring};
use jni::JNIEnv;
use paws_core::data::parquet_ranges::{self as ranges, Fetched};
use std::path::PathBuf;

/// The arguments every call starts with: the file's path and length, and its footer
/// (or its tail, for `footerLength`).
fn file_args(
    env: &mut JNIEnv,
    path: &JString,
    len: jlong,
    footer: &JByteArray,
) -> Result<(PathBuf, u64, Vec<u8>)> {
    let path = PathBuf::from(string_arg(env, path, "path")?);
    let len = u64::try_from(len).or_else(|_| invalid(format!("fileLen {len} < 0")))?;
    Ok((path, len, read_bytes(env, footer, "footer")?))
}

/// The pieces `starts[i]`/`pieces[i]` as the file's fetched bytes.
fn fetched(
    env: &mut JNIEnv,
    len: u64,
    starts: &JLongArray,
    pieces: &JObjectArray,
) -> Result<Fetched> {
    let n = length(env, starts, "starts")?;
    if pieces.is_null() || env.get_array_length(pieces)? as usize != n {
        return invalid(format!("pieces must be an array of {n} byte arrays"));
    }
    let mut at = vec![0i64; n];
    env.get_long_array_region(starts, 0, &mut at)?;
    let mut out = Fetched::new(len);
    for (i, &start) in at.iter().enumerate() {
        let p = JByteArray::from(env.get_object_array_element(pieces, i as i32)?);
        let b = read_bytes(env, &p, &format!("pieces[{i}]"))?;
        env.delete_local_ref(p)?;
        let start = u64::try_from(start).or_else(|_| invalid(format!("starts[{i}] < 0")))?;
        out.add(start, b);
    }
    Ok(out)
}

/// `int footerLength(String path, long fileLen, byte[] tail)`: the footer's length
/// from the file's last 8 bytes.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeParquet_footerLength<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    path: JString<'l>,
    len: jlong,
    tail: JByteArray<'l>,
) -> jint {
    guard::run(&mut env, "footerLength", |env| {
        let (path, len, tail) = file_args(env, &path, len, &tail)?;
        let n = ranges::footer_len(&path, len, &tail).map_err(user)?;
        i32::try_from(n).or_else(|_| invalid(format!("{}: footer of {n} bytes", path.display())))
    })
}

/// `String layout(String path, long fileLen, byte[] footer)`: `{"row_groups": [{"rows",
/// "index": [[start, length], ...], "features": [...]}], "model", "dim"}`.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeParquet_layout<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    path: JString<'l>,
    len: jlong,
    footer: JByteArray<'l>,
) -> jstring {
    guard::run(&mut env, "layout", |env| {
        let (path, len, footer) = file_args(env, &path, len, &footer)?;
        let l = ranges::layout(&path, len, &footer).map_err(user)?;
        string_result(env, serde_json::to_string(&l).expect("plain data"))
    })
}

/// `String index(String path, long fileLen, byte[] footer, long[] starts, byte[][]
/// pieces)`: `{"images": [...], "labels": [...]}` of every row, from the pieces that
/// hold every row group's index ranges.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeParquet_index<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    path: JString<'l>,
    len: jlong,
    footer: JByteArray<'l>,
    starts: JLongArray<'l>,
    pieces: JObjectArray<'l>,
) -> jstring {
    guard::run(&mut env, "index", |env| {
        let (path, len, footer) = file_args(env, &path, len, &footer)?;
        let fetched = fetched(env, len, &starts, &pieces)?;
        let (images, labels) = ranges::read_index(&path, len, &footer, fetched).map_err(user)?;
        let json = serde_json::json!({ "images": images, "labels": labels });
        string_result(env, json.to_string())
    })
}

/// `float[] features(String path, long fileLen, byte[] footer, int rowGroup, long[]
/// starts, byte[][] pieces)`: the row group's features, row-major, from the pieces that
/// hold its features ranges.
#[no_mangle]
pub extern "system" fn Java_dev_paws_spark_jni_NativeParquet_features<'l>(
    mut env: JNIEnv<'l>,
    _class: JClass<'l>,
    path: JString<'l>,
    len: jlong,
    footer: JByteArray<'l>,
    row_group: jint,
    starts: JLongArray<'l>,
    pieces: JObjectArray<'l>,
) -> jfloatArray {
    guard::run(&mut env, "features", |env| {
        let (path, len, footer) = file_args(env, &path, len, &footer)?;
        let group =
            usize::try_from(row_group).or_else(|_| invalid(format!("rowGroup {row_group} < 0")))?;
        let fetched = fetched(env, len, &starts, &pieces)?;
        let x = ranges::read_features(&path, len, &footer, fetched, group).map_err(user)?;
        new_float_array(env, &x)
    })
}
