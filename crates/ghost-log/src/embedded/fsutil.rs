//! Small filesystem helpers: typed I/O errors, directory fsync, atomic file replace,
//! and the data-directory lock.

use crate::LogError;
use std::fs::{self, File, TryLockError};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// Wraps an I/O error with what we were doing and to which path.
pub(crate) fn io_err(
    operation: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> LogError {
    let path = path.display().to_string();
    move |source| LogError::Io {
        operation,
        path,
        source,
    }
}

/// Fsyncs a directory so that entries created, renamed or removed in it survive a
/// crash (on Linux a file's own fsync does not cover its directory entry).
pub(crate) fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("fsync directory", dir))
}

/// Replaces `path` with `contents` so that a crash leaves either the old or the new
/// file, never a mix: write a temporary sibling, fsync it, rename it over, fsync the
/// directory.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), LogError> {
    let tmp = path.with_extension("tmp");
    let mut file = File::create(&tmp).map_err(io_err("create", &tmp))?;
    file.write_all(contents).map_err(io_err("write", &tmp))?;
    file.sync_all().map_err(io_err("fsync", &tmp))?;
    drop(file);
    fs::rename(&tmp, path).map_err(io_err("rename", path))?;
    match path.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

/// Creates `dir` (and parents) if missing.
pub(crate) fn create_dir(dir: &Path) -> Result<(), LogError> {
    fs::create_dir_all(dir).map_err(io_err("create directory", dir))
}

/// An exclusive lock on `<dir>/LOCK`, held for as long as this value lives. The log
/// and every partition writer task hold it, so a reopen cannot race a writer of the
/// previous instance that is still finishing.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

/// How long `open` keeps retrying a held lock: a previous instance in this process
/// releases it as soon as its writer tasks have noticed the shutdown.
const LOCK_PATIENCE: Duration = Duration::from_secs(2);

impl DirLock {
    pub(crate) async fn acquire(dir: &Path) -> Result<DirLock, LogError> {
        let path = dir.join("LOCK");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err("open lock file", &path))?;
        let deadline = tokio::time::Instant::now() + LOCK_PATIENCE;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(DirLock { _file: file }),
                Err(TryLockError::WouldBlock) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(LogError::Locked(dir.display().to_string()));
                }
                Err(TryLockError::Error(e)) => return Err(io_err("lock", &path)(e)),
            }
        }
    }
}
