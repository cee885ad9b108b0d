//! `ghost topics apply` on the embedded log: `--dry-run` reports missing topics
//! and fails, apply creates them, and a second dry run finds nothing to do.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code fails loudly"
)]

const BIN: &str = env!("CARGO_BIN_EXE_ghost");

fn apply(data: &std::path::Path, dry_run: bool) -> (bool, String) {
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["topics", "apply", "--data"]).arg(data);
    if dry_run {
        cmd.arg("--dry-run");
    }
    let out = cmd.env_remove("GHOST_LOG").output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn dry_run_then_apply_then_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = apply(dir.path(), true);
    assert!(!ok, "{out}");
    assert!(
        out.contains("ghost.captures.v1: missing (would be created)"),
        "{out}"
    );
    assert!(out.contains("6 difference(s)"), "{out}");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "a dry run must not create anything under the data directory"
    );

    let (ok, out) = apply(dir.path(), false);
    assert!(ok, "{out}");
    assert!(
        out.contains("ghost.captures.v1: created (4 partitions, delete"),
        "{out}"
    );
    assert!(out.contains("ghost.deadletter.v1: created"), "{out}");
    assert!(
        out.contains("replication and retention.ms do not apply"),
        "{out}"
    );

    let (ok, out) = apply(dir.path(), true);
    assert!(ok, "{out}");
    assert_eq!(out.matches(": ok").count(), 6, "{out}");
}
