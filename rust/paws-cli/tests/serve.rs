//! `paws serve` over real HTTP: the page, the JSON API with real photos, bad uploads,
//! 50 uploads at once, start-up errors and SIGTERM.
//!
//! Like tests/breeds.rs, these need the CNN (`scripts/fetch-model.sh`) and skip with a
//! printed `SKIPPED:` line without it (a failure under `PAWS_REQUIRE_MODEL=1`). The
//! bad-upload and concurrency tests generate their photos; only the breed test reads
//! `../shared/data`.

mod common;

use common::{cnn_or_skip, paws, photos_or_skip, repo, say, text};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use std::io::{BufRead, BufReader, Cursor, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

/// A `paws serve` child on a free port of 127.0.0.1.
struct Server {
    child: Child,
    base: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(cnn: &std::path::Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_paws"))
            .args(["serve", "--addr", "127.0.0.1:0", "--cnn"])
            .arg(cnn)
            .args(extra)
            .current_dir(repo())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start paws serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("paws serve: listening on ")
            .unwrap_or_else(|| {
                let _ = child.kill();
                std::thread::sleep(Duration::from_millis(200));
                panic!("no address in {line:?}: {}", stderr.lock().unwrap())
            })
            .trim_end_matches('/')
            .to_string();
        Server {
            child,
            base,
            stderr,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Peak resident memory of the server process (VmHWM), in MiB.
    fn peak_rss_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status");
        kib / 1024
    }

    /// SIGTERM, then the exit status and everything it logged.
    fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "paws serve ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(100));
        let log = self.stderr.lock().unwrap().clone();
        (status, log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(180)))
        .build()
        .into()
}

struct Answer {
    status: u16,
    retry_after: Option<String>,
    content_type: String,
    body: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

fn answer(mut r: ureq::http::Response<ureq::Body>) -> Answer {
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let retry_after = header("retry-after");
    let content_type = header("content-type").unwrap_or_default();
    Answer {
        status: r.status().as_u16(),
        retry_after,
        content_type,
        body: r.body_mut().read_to_string().unwrap(),
    }
}

fn get(agent: &ureq::Agent, url: &str) -> Answer {
    answer(agent.get(url).call().unwrap())
}

/// POSTs `bytes` as the multipart field `field`, as the page's form does.
fn post_form(agent: &ureq::Agent, url: &str, field: &str, file_name: &str, bytes: &[u8]) -> Answer {
    let boundary = "paws-test-boundary-7d1f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    answer(
        agent
            .post(url)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .send(&body[..])
            .unwrap(),
    )
}

/// POSTs `bytes` as the whole body, as a field app does.
fn post_raw(agent: &ureq::Agent, url: &str, content_type: &str, bytes: &[u8]) -> Answer {
    answer(
        agent
            .post(url)
            .header("Content-Type", content_type)
            .send(bytes)
            .unwrap(),
    )
}

fn encode(img: RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), format)
        .unwrap();
    out
}

/// A photo-sized JPEG with some texture (a flat image compresses to nothing).
fn generated_jpeg(w: u32, h: u32) -> Vec<u8> {
    encode(
        RgbImage::from_fn(w, h, |x, y| {
            Rgb([
                (x * 31 + y * 7) as u8,
                ((x ^ y) * 13) as u8,
                (x * y % 251) as u8,
            ])
        }),
        ImageFormat::Jpeg,
    )
}

#[test]
fn serves_the_page_the_model_and_health() {
    let Some(cnn) = cnn_or_skip("serve page") else {
        return;
    };
    let server = Server::start(&cnn, &[]);
    let agent = client();

    let page = get(&agent, &server.url("/"));
    assert_eq!(page.status, 200);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    assert!(
        page.body.contains(r#"accept="image/*" capture"#),
        "{}",
        page.body
    );
    // Everything is served by paws: no external script, style, font or image.
    for external in ["http://", "https://", "//cdn", "@import"] {
        assert!(!page.body.contains(external), "{external} in the page");
    }
    for asset in ["/app.js", "/app.css"] {
        assert!(page.body.contains(asset));
        let a = get(&agent, &server.url(asset));
        assert_eq!(a.status, 200, "{asset}");
        assert!(
            !a.body.contains("http://") && !a.body.contains("https://"),
            "{asset}"
        );
    }

    let health = get(&agent, &server.url("/health"));
    assert_eq!(
        (health.status, health.json()["status"].as_str()),
        (200, Some("ok"))
    );

    let model = get(&agent, &server.url("/api/model")).json();
    let breeds = model["breeds"].as_array().unwrap();
    assert_eq!(breeds.len(), 37);
    assert!(breeds
        .iter()
        .any(|b| b["name"] == "Bengal" && b["species"] == "cat"));
    assert!(breeds
        .iter()
        .any(|b| b["name"] == "pug" && b["species"] == "dog"));
    assert_eq!(model["extractor"]["model"], "efficientnet-lite0-imagenet");
    assert_eq!(model["format"], "paws-breed-model/1");
    assert_eq!(model["paws_version"], env!("CARGO_PKG_VERSION"));

    let missing = get(&agent, &server.url("/nope"));
    assert_eq!(missing.status, 404);
    assert!(missing.json()["error"].is_string());
}

#[test]
fn predicts_the_breed_of_sample_photos() {
    let Some(cnn) = cnn_or_skip("serve predict") else {
        return;
    };
    let (Some(sample), Some(few)) = (
        photos_or_skip("serve predict", "oxford-pets-sample"),
        photos_or_skip("serve predict", "oxford-pets-37-few"),
    ) else {
        return;
    };
    let server = Server::start(&cnn, &[]);
    let agent = client();
    let photos = [
        sample.join("Abyssinian_100.jpg"),
        sample.join("Bengal_100.jpg"),
        sample.join("american_bulldog_100.jpg"),
        few.join("Birman_121.jpg"),
        few.join("pug_112.jpg"),
        few.join("samoyed_108.jpg"),
    ];
    let mut right = 0;
    for (i, photo) in photos.iter().enumerate() {
        let bytes = std::fs::read(photo).unwrap();
        let name = photo.file_name().unwrap().to_str().unwrap();
        let breed = &name[..name.rfind('_').unwrap()];
        // The page's multipart form and a field app's raw body, alternately.
        let a = if i % 2 == 0 {
            post_form(&agent, &server.url("/api/predict"), "image", name, &bytes)
        } else {
            post_raw(&agent, &server.url("/api/predict"), "image/jpeg", &bytes)
        };
        assert_eq!(a.status, 200, "{name}: {}", a.body);
        let doc = a.json();
        let top = doc["top"].as_array().unwrap();
        assert_eq!(top.len(), 3, "{doc}");
        let scores: Vec<f64> = top.iter().map(|t| t["score"].as_f64().unwrap()).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{doc}");
        assert!(scores.iter().sum::<f64>() <= 1.0 + 1e-9, "{doc}");
        assert_eq!(doc["sure"].as_bool(), Some(scores[0] >= 0.5), "{doc}");
        assert_eq!(doc["species"], top[0]["species"]);
        assert_eq!(doc["image"]["format"], "jpeg");
        let species = if breed.starts_with(char::is_uppercase) {
            "cat"
        } else {
            "dog"
        };
        if top[0]["breed"] == breed {
            right += 1;
            assert_eq!(doc["species"], species, "{doc}");
        }
        say(&format!(
            "serve: {name} -> {} {:.3}",
            top[0]["breed"], scores[0]
        ));
    }
    assert!(right >= 4, "{right} of {} photos named right", photos.len());
}

#[test]
fn refuses_bad_uploads_with_clear_statuses() {
    let Some(cnn) = cnn_or_skip("serve bad uploads") else {
        return;
    };
    let server = Server::start(
        &cnn,
        &["--max-upload-bytes", "1000000", "--max-pixels", "20000000"],
    );
    let agent = client();
    let predict = server.url("/api/predict");
    let error = |a: &Answer| a.json()["error"].as_str().unwrap().to_string();

    let empty = post_raw(&agent, &predict, "image/jpeg", b"");
    assert_eq!(empty.status, 400, "{}", empty.body);
    let empty = post_form(&agent, &predict, "image", "cat.jpg", b"");
    assert_eq!(empty.status, 400, "{}", empty.body);
    let no_field = post_form(
        &agent,
        &predict,
        "photo",
        "cat.jpg",
        &generated_jpeg(64, 48),
    );
    assert_eq!(no_field.status, 400, "{}", no_field.body);
    assert!(error(&no_field).contains("\"image\""));

    // 1.5 MB against a 1 MB bound.
    let big = vec![0xFFu8; 1_500_000];
    let too_big = post_raw(&agent, &predict, "image/jpeg", &big);
    assert_eq!(too_big.status, 413, "{}", too_big.body);

    // Text with a photo's name and Content-Type: sniffed, refused.
    let text = b"Dear shelter, this is a letter, not a photo.".repeat(20);
    let not_image = post_form(&agent, &predict, "image", "cat.jpg", &text);
    assert_eq!(not_image.status, 415, "{}", not_image.body);
    assert!(error(&not_image).contains("unrecognised image format"));
    let not_image = post_raw(&agent, &predict, "image/png", &text);
    assert_eq!(not_image.status, 415, "{}", not_image.body);

    let jpeg = generated_jpeg(640, 480);
    let truncated = post_raw(&agent, &predict, "image/jpeg", &jpeg[..jpeg.len() * 2 / 3]);
    assert_eq!(truncated.status, 422, "{}", truncated.body);
    assert!(
        error(&truncated).contains("truncated"),
        "{}",
        truncated.body
    );

    // 100,000 x 100,000 pixels declared in 70 bytes: refused before any decoding.
    let bomb = paws_testkit::images::huge_png(100_000, 100_000);
    let t = Instant::now();
    let huge = post_form(&agent, &predict, "image", "bomb.png", &bomb);
    assert_eq!(huge.status, 413, "{}", huge.body);
    assert!(error(&huge).contains("100000 x 100000"), "{}", huge.body);
    assert!(t.elapsed() < Duration::from_secs(5));

    // A good photo still works after all that, and the server never grew.
    let ok = post_raw(&agent, &predict, "image/jpeg", &jpeg);
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(
        server.peak_rss_mib() < 1024,
        "{} MiB",
        server.peak_rss_mib()
    );
}

#[test]
fn fifty_simultaneous_uploads_get_answers_or_503s() {
    let Some(cnn) = cnn_or_skip("serve concurrency") else {
        return;
    };
    let server = Server::start(&cnn, &["--workers", "2", "--queue", "6"]);
    let photo = Arc::new(generated_jpeg(3000, 2250));
    let agent = client();
    let warm = post_raw(&agent, &server.url("/api/predict"), "image/jpeg", &photo);
    assert_eq!(warm.status, 200, "{}", warm.body);
    let before = server.peak_rss_mib();

    let barrier = Arc::new(Barrier::new(50));
    let url = server.url("/api/predict");
    let threads: Vec<_> = (0..50)
        .map(|_| {
            let (barrier, photo, url) = (barrier.clone(), photo.clone(), url.clone());
            std::thread::spawn(move || {
                let agent = client();
                barrier.wait();
                post_raw(&agent, &url, "image/jpeg", &photo)
            })
        })
        .collect();
    let answers: Vec<Answer> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let busy: Vec<&Answer> = answers.iter().filter(|a| a.status == 503).collect();
    assert_eq!(
        ok + busy.len(),
        50,
        "other statuses: {:?}",
        answers
            .iter()
            .map(|a| (a.status, a.body.as_str()))
            .filter(|(s, _)| *s != 200 && *s != 503)
            .collect::<Vec<_>>()
    );
    assert!(ok >= 2, "only {ok} of 50 answered");
    for b in &busy {
        assert_eq!(b.retry_after.as_deref(), Some("2"), "{}", b.body);
        assert!(b.json()["error"].as_str().unwrap().contains("busy"));
    }
    let same: Vec<&str> = answers
        .iter()
        .filter(|a| a.status == 200)
        .map(|a| a.body.split("\"elapsed_ms\"").next().unwrap())
        .collect();
    assert!(
        same.windows(2).all(|w| w[0] == w[1]),
        "one photo, different answers"
    );

    // Still up, and memory bounded: 8 photos of 6.75 MP in flight, 2 decoded at once.
    let health = get(&agent, &server.url("/health"));
    assert_eq!(health.status, 200);
    let peak = server.peak_rss_mib();
    say(&format!(
        "serve: 50 uploads: {ok} answered, {} busy; peak RSS {before} -> {peak} MiB",
        busy.len()
    ));
    assert!(peak < before + 512, "peak RSS {before} -> {peak} MiB");
    let (status, log) = server.terminate();
    assert!(status.success(), "{status}: {log}");
}

#[test]
fn start_up_fails_clearly_and_sigterm_stops_it() {
    let Some(cnn) = cnn_or_skip("serve start-up") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cnn_arg = cnn.to_str().unwrap();

    let missing = dir.path().join("missing.json");
    let serve_with = |model: &std::path::Path| {
        let args = [
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--cnn",
            cnn_arg,
            "--model",
        ];
        let mut args = args.to_vec();
        args.push(model.to_str().unwrap());
        paws(&args, dir.path())
    };
    let o = serve_with(&missing);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("missing.json"), "{}", text(&o));

    // The default model, said to be of another CNN's features.
    let mut model: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo().join("examples/models/breeds-37.json")).unwrap(),
    )
    .unwrap();
    model["extractor"]["model"] = "vgg16-fc2".into();
    let other = dir.path().join("vgg.json");
    std::fs::write(&other, serde_json::to_vec(&model).unwrap()).unwrap();
    let o = serve_with(&other);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("vgg16-fc2") && text(&o).contains("efficientnet-lite0-imagenet"),
        "{}",
        text(&o)
    );

    let server = Server::start(&cnn, &[]);
    assert_eq!(get(&client(), &server.url("/health")).status, 200);
    let (status, log) = server.terminate();
    assert!(status.success(), "{status}: {log}");
    assert!(log.contains("SIGTERM") && log.contains("stopped"), "{log}");
}
