//! Service names: the unit of routing, modes and library partitioning.

use std::fmt;
use std::sync::Arc;

/// A validated service name (letters, digits, `.`, `_`, `-`; 1–64 chars).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceName(Arc<str>);

/// Why a string is not a service name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid service name `{0}`: use 1-64 letters, digits, `.`, `_` or `-`")]
pub struct ServiceNameError(pub String);

impl ServiceName {
    /// The service `--upstream` creates.
    pub const DEFAULT: &'static str = "default";

    pub fn new(name: &str) -> Result<Self, ServiceNameError> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(Self(Arc::from(name)))
        } else {
            Err(ServiceNameError(name.to_owned()))
        }
    }

    pub fn default_service() -> Self {
        Self(Arc::from(Self::DEFAULT))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates() {
        assert!(ServiceName::new("payments-api.v2_x").is_ok());
        assert!(ServiceName::new("").is_err());
        assert!(ServiceName::new("a b").is_err());
        assert!(ServiceName::new(&"x".repeat(65)).is_err());
    }
}
