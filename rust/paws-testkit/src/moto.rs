//! moto's S3 server on 127.0.0.1 for the S3 tests. scripts/test.sh installs
//! `moto[server]` from PyPI and sets `PAWS_MOTO_SERVER` (the `moto_server` script) and
//! `PAWS_REQUIRE_MOTO=1`; without them a test that asks for a server skips with a
//! message (a user's clone without moto), or fails when the server is required.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server, stopped (and resumed first, if paused) when dropped.
pub struct Moto {
    child: Child,
    endpoint: String,
}

/// A free TCP port on 127.0.0.1 (nothing listens on it once this returns).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Moto {
    /// Starts a server on a free port and waits until it accepts connections; `None`
    /// (after printing why) when moto is not installed and not required.
    pub fn start(test: &str) -> Option<Moto> {
        let server = std::env::var("PAWS_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let port = free_port();
        let child = match Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                assert!(
                    std::env::var("PAWS_REQUIRE_MOTO").as_deref() != Ok("1"),
                    "PAWS_REQUIRE_MOTO=1 but {server} cannot be started: {e}"
                );
                eprintln!(
                    "SKIPPED: {test}: no moto server ({server}: {e}); `pip install 'moto[server]'` \
                     or set PAWS_MOTO_SERVER (scripts/test.sh does)"
                );
                return None;
            }
        };
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let t = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Pauses the server (SIGSTOP): connections are accepted by the kernel, nothing
    /// answers. A way to make "the server went away" happen at a chosen moment.
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Resumes a paused server.
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, name: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.resume();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The AWS environment of a command that talks to `endpoint`: test credentials, a region,
/// no instance-metadata lookups, `home` as HOME (no ~/.aws), short timeouts.
pub fn aws_env(cmd: &mut Command, endpoint: &str, home: &Path) {
    cmd.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", home)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env("PAWS_S3_READ_TIMEOUT", "3")
        .env("PAWS_S3_MAX_ATTEMPTS", "2");
}

/// The same environment for this process (for a client in the test itself). Call it
/// from a test binary's single S3 test: the environment is process-wide.
pub fn set_aws_env(endpoint: &str, home: &Path) {
    let mut probe = Command::new("true");
    aws_env(&mut probe, endpoint, home);
    for (key, value) in probe.get_envs() {
        match value {
            Some(v) => std::env::set_var(key, v),
            None => std::env::remove_var(key),
        }
    }
}
