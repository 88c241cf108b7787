//! An S3 server's ListObjectsV2 answer through the AWS SDK's parser and `S3::list`; the
//! checks are in `paws_store::fuzzing::s3_list`, shared with the corpus replay.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = paws_store::fuzzing::s3_list(data);
});
