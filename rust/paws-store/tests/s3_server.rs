//! paws-store against a real local S3 server (moto's; see paws_testkit::moto): paginated
//! listing, multipart upload, downloads, named errors, and an upload cut off by a server
//! that stops answering (the object is absent, not half written).

use std::time::{Duration, Instant};

use paws_store::{S3Url, StoreError, S3};
use paws_testkit::moto::{set_aws_env, Moto};

fn url(s: &str) -> S3Url {
    S3Url::parse(s).unwrap()
}

/// Deterministic bytes that do not compress into one part.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 32) as u8
        })
        .collect()
}

#[test]
fn transfers_listing_and_errors_against_a_local_s3_server() {
    let Some(moto) = Moto::start("paws-store S3 tests") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    set_aws_env(moto.endpoint(), home.path());
    let s3 = S3::connect().unwrap();
    s3.block_on(s3.client().create_bucket().bucket("store").send())
        .unwrap();

    // More objects than one listing page (1,000): all of them, in key order.
    let n = 1_005;
    for i in 0..n {
        s3.put_bytes(
            &url(&format!("s3://store/many/{i:05}.txt")),
            i.to_string().into_bytes(),
        )
        .unwrap();
    }
    let listed = s3.list(&url("s3://store/many")).unwrap();
    assert_eq!(listed.len(), n);
    assert!(listed.windows(2).all(|w| w[0].url.key < w[1].url.key));
    assert_eq!(listed[1004].url.key, "many/01004.txt");
    assert_eq!(listed[1004].size, 4);

    // A file above the multipart threshold (3 parts) and a small one, downloaded back
    // (several at once) bit for bit.
    let big = bytes(2 * paws_store::s3::MULTIPART_THRESHOLD as usize + 12_345, 7);
    let small = bytes(1_000, 9);
    std::fs::write(dir.path().join("big.bin"), &big).unwrap();
    std::fs::write(dir.path().join("small.bin"), &small).unwrap();
    s3.upload_file(&dir.path().join("big.bin"), &url("s3://store/up/big.bin"))
        .unwrap();
    s3.upload_file(
        &dir.path().join("small.bin"),
        &url("s3://store/up/small.bin"),
    )
    .unwrap();
    assert_eq!(
        s3.object_size(&url("s3://store/up/big.bin")).unwrap(),
        Some(big.len() as u64)
    );
    let back = dir.path().join("back");
    std::fs::create_dir(&back).unwrap();
    let total = s3
        .download_all(&[
            (url("s3://store/up/big.bin"), back.join("big.bin")),
            (url("s3://store/up/small.bin"), back.join("small.bin")),
        ])
        .unwrap();
    assert_eq!(total, (big.len() + small.len()) as u64);
    assert!(std::fs::read(back.join("big.bin")).unwrap() == big);
    assert!(std::fs::read(back.join("small.bin")).unwrap() == small);
    assert_eq!(
        std::fs::read_dir(&back).unwrap().count(),
        2,
        "no temporary files left"
    );

    // Named errors.
    assert!(matches!(
        s3.check_bucket("no-such-bucket"),
        Err(StoreError::NoSuchBucket { .. })
    ));
    assert_eq!(s3.object_size(&url("s3://store/none")).unwrap(), None);
    assert!(matches!(
        s3.object_size(&url("s3://no-such-bucket/x")),
        Err(StoreError::NoSuchBucket { .. })
    ));
    let missing = s3.download(&url("s3://store/none"), &back.join("none"));
    assert!(
        matches!(missing, Err(StoreError::NoSuchKey { .. })),
        "{missing:?}"
    );
    assert!(!back.join("none").exists());

    // The server stops answering during an upload: a timeout error within the bounded
    // time (PAWS_S3_READ_TIMEOUT=3 s, 2 attempts), and after it resumes no object.
    moto.pause();
    let t = Instant::now();
    let cut = s3.upload_file(&dir.path().join("big.bin"), &url("s3://store/up/cut.bin"));
    let took = t.elapsed();
    moto.resume();
    let err = cut.expect_err("upload to a paused server");
    assert!(
        matches!(
            err,
            StoreError::TimedOut { .. } | StoreError::Unreachable { .. }
        ),
        "{err}"
    );
    assert!(err.to_string().contains(moto.endpoint()), "{err}");
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert_eq!(s3.object_size(&url("s3://store/up/cut.bin")).unwrap(), None);
}
