//! A real Kafka-protocol broker (tansu) on a free loopback port, installed by
//! `scripts/install-tansu.sh`. `GHOST_TEST_KAFKA=host:port` uses an existing
//! broker instead (e.g. Apache Kafka) and starts nothing.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running broker; killed on drop.
pub struct Broker {
    pub bootstrap: String,
    child: Option<Child>,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl Broker {
    pub fn start() -> Self {
        if let Ok(external) = std::env::var("GHOST_TEST_KAFKA") {
            return Self {
                bootstrap: external,
                child: None,
            };
        }
        let out = Command::new(repo_root().join("scripts/install-tansu.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/install-tansu.sh");
        assert!(out.status.success(), "scripts/install-tansu.sh failed");
        let bin = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu");
        let bootstrap = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&bootstrap).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on {bootstrap} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            bootstrap,
            child: Some(child),
        }
    }
}

impl Broker {
    /// Freezes the broker process (SIGSTOP): connections stay open, nothing answers.
    /// Returns false for an external broker, which cannot be paused.
    pub fn pause(&self) -> bool {
        self.signal("-STOP")
    }

    /// Resumes a paused broker (SIGCONT).
    pub fn resume(&self) -> bool {
        self.signal("-CONT")
    }

    fn signal(&self, sig: &str) -> bool {
        let Some(c) = &self.child else { return false };
        Command::new("kill")
            .arg(sig)
            .arg(c.id().to_string())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
