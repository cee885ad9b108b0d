//! API keys: stored as SHA-256 hashes, checked in constant time.
//!
//! Keys are high-entropy random tokens, so a fast hash is the right tool (bcrypt
//! per request would cost milliseconds for no gain). The plaintext exists only
//! in the response to the operator at bootstrap.

use crate::error::ControlError;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use subtle::ConstantTimeEq;

const FILE: &str = "api_keys.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredKey {
    id: String,
    /// Hex SHA-256 of the key.
    sha256: String,
    role: String,
    created_at_us: i64,
}

/// The set of valid API keys (hashes only).
#[derive(Debug, Clone)]
pub struct ApiKeys {
    hashes: Vec<[u8; 32]>,
}

/// What happened to the key store at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootstrapOutcome {
    /// Keys already existed; nothing changed.
    Existing,
    /// First boot: `GHOST_API_KEY` became the admin key.
    FromEnv,
    /// First boot: a key was generated; this is the only time it is shown.
    Generated(String),
}

fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl ApiKeys {
    /// Loads the key store, creating it on first boot.
    pub fn load_or_bootstrap(
        dir: &Path,
        bootstrap: Option<&str>,
    ) -> Result<(Self, BootstrapOutcome), ControlError> {
        let path = dir.join(FILE);
        let io = |source| ControlError::KeyStore {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read(&path) {
            Ok(bytes) => {
                let keys: Vec<StoredKey> =
                    serde_json::from_slice(&bytes).map_err(|e| ControlError::KeyStoreCorrupt {
                        path: path.display().to_string(),
                        detail: e.to_string(),
                    })?;
                let mut hashes = Vec::with_capacity(keys.len());
                for k in keys {
                    let mut h = [0u8; 32];
                    hex::decode_to_slice(&k.sha256, &mut h).map_err(|e| {
                        ControlError::KeyStoreCorrupt {
                            path: path.display().to_string(),
                            detail: format!("key {}: {e}", k.id),
                        }
                    })?;
                    hashes.push(h);
                }
                Ok((Self { hashes }, BootstrapOutcome::Existing))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let (key, outcome) = match bootstrap {
                    Some(k) => {
                        if k.len() < 16 {
                            return Err(ControlError::BadBootstrapKey(
                                "it must be at least 16 characters".to_owned(),
                            ));
                        }
                        (k.to_owned(), BootstrapOutcome::FromEnv)
                    }
                    None => {
                        let mut raw = [0u8; 24];
                        rand::rng().fill_bytes(&mut raw);
                        let k = format!("ghost_{}", hex::encode(raw));
                        (k.clone(), BootstrapOutcome::Generated(k))
                    }
                };
                let h = hash(&key);
                let stored = vec![StoredKey {
                    id: "admin".to_owned(),
                    sha256: hex::encode(h),
                    role: "admin".to_owned(),
                    created_at_us: ghost_model::clock::now_us(),
                }];
                std::fs::create_dir_all(dir).map_err(io)?;
                let json = serde_json::to_vec_pretty(&stored).unwrap_or_default();
                write_atomic(&path, &json).map_err(io)?;
                Ok((Self { hashes: vec![h] }, outcome))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Whether `presented` is a valid key. Every stored hash is compared so the
    /// time taken does not depend on which one matched.
    pub fn verify(&self, presented: &str) -> bool {
        let h = hash(presented);
        let mut ok = subtle::Choice::from(0);
        for stored in &self.hashes {
            ok |= stored.ct_eq(&h);
        }
        ok.into()
    }
}

fn write_atomic(path: &PathBuf, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("json.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_then_reload_keeps_only_the_hash() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, outcome) =
            ApiKeys::load_or_bootstrap(dir.path(), Some("sixteen-chars-key!")).unwrap();
        assert_eq!(outcome, BootstrapOutcome::FromEnv);
        assert!(keys.verify("sixteen-chars-key!"));
        assert!(!keys.verify("wrong"));
        let stored = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(!stored.contains("sixteen-chars-key!"));
        // A later GHOST_API_KEY does not replace the existing key.
        let (keys, outcome) =
            ApiKeys::load_or_bootstrap(dir.path(), Some("another-key-entirely")).unwrap();
        assert_eq!(outcome, BootstrapOutcome::Existing);
        assert!(keys.verify("sixteen-chars-key!"));
        assert!(!keys.verify("another-key-entirely"));
    }

    #[test]
    fn generates_a_key_when_none_given_and_rejects_corrupt_store() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, outcome) = ApiKeys::load_or_bootstrap(dir.path(), None).unwrap();
        let BootstrapOutcome::Generated(k) = outcome else {
            panic!("expected a generated key")
        };
        assert!(k.starts_with("ghost_") && keys.verify(&k));
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        let err = ApiKeys::load_or_bootstrap(dir.path(), None).unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err}");
        assert!(
            ApiKeys::load_or_bootstrap(tempfile::tempdir().unwrap().path(), Some("short")).is_err()
        );
    }
}
