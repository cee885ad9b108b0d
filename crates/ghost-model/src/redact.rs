//! The credential-header redaction floor.
//!
//! The floor is structural: a [`Redactor`] always contains these 16 names and
//! configuration can only add to them. Matching is case-insensitive.

use crate::capture::{Capture, CaptureParts, HeaderPair};
use bytes::Bytes;

/// The value that replaces a redacted header's value (the name is kept).
pub const REDACTED: &str = "[REDACTED]";

/// Header names always redacted before any byte is written anywhere.
pub const REDACTION_FLOOR: [&str; 16] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
    "x-session-id",
    "x-access-token",
    "x-user-token",
    "x-csrf-token",
    "x-amz-security-token",
    "x-amz-session-token",
    "x-goog-api-key",
    "grpc-metadata-authorization",
    "api-key",
    "token",
];

/// Why an extra redaction list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid header name `{0}` in the redaction list")]
pub struct RedactorError(pub String);

/// Replaces credential header values with [`REDACTED`]; the only way to build a
/// [`Capture`].
#[derive(Debug, Clone)]
pub struct Redactor {
    /// Lower-cased names: the floor followed by additions.
    names: Vec<Box<str>>,
}

impl Default for Redactor {
    fn default() -> Self {
        Self {
            names: REDACTION_FLOOR.iter().map(|n| Box::from(*n)).collect(),
        }
    }
}

impl Redactor {
    /// The floor plus `extra` header names (e.g. from `REDACT_HEADERS`).
    pub fn with_extra<I, S>(extra: I) -> Result<Self, RedactorError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut r = Self::default();
        for name in extra {
            let name = name.as_ref().trim();
            if name.is_empty() {
                continue;
            }
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(RedactorError(name.to_owned()));
            }
            let lower = name.to_ascii_lowercase();
            if !r.is_redacted(&lower) {
                r.names.push(lower.into_boxed_str());
            }
        }
        Ok(r)
    }

    /// Parses a comma-separated list such as the `REDACT_HEADERS` variable.
    pub fn from_list(list: &str) -> Result<Self, RedactorError> {
        Self::with_extra(list.split(','))
    }

    /// Whether values of header `name` are redacted.
    pub fn is_redacted(&self, name: &str) -> bool {
        self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// All redacted names, the floor first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|n| &**n)
    }

    /// Redacts header values in place.
    pub fn redact_headers(&self, headers: &mut [HeaderPair]) {
        for h in headers {
            if self.is_redacted(&h.name) {
                h.value = Bytes::from_static(REDACTED.as_bytes());
            }
        }
    }

    /// Builds a capture, redacting both header lists first.
    pub fn capture(&self, mut parts: CaptureParts) -> Capture {
        for h in parts
            .request_headers
            .iter_mut()
            .chain(parts.response_headers.iter_mut())
        {
            h.name.make_ascii_lowercase();
        }
        self.redact_headers(&mut parts.request_headers);
        self.redact_headers(&mut parts.response_headers);
        Capture::from_redacted(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(n: &str, v: &str) -> HeaderPair {
        HeaderPair {
            name: n.to_owned(),
            value: Bytes::copy_from_slice(v.as_bytes()),
        }
    }

    #[test]
    fn floor_is_always_redacted_case_insensitively() {
        let r = Redactor::from_list("x-tenant-secret").unwrap();
        for name in REDACTION_FLOOR {
            assert!(r.is_redacted(&name.to_ascii_uppercase()), "{name}");
        }
        assert!(r.is_redacted("X-Tenant-Secret"));
        assert!(!r.is_redacted("content-type"));
    }

    #[test]
    fn capture_redacts_both_directions() {
        let r = Redactor::default();
        let c = r.capture(CaptureParts {
            request_headers: vec![
                pair("Authorization", "Bearer canary"),
                pair("accept", "*/*"),
            ],
            response_headers: vec![pair("Set-Cookie", "sid=canary")],
            ..CaptureParts::default()
        });
        assert_eq!(c.request_headers()[0].name, "authorization");
        assert_eq!(c.request_headers()[0].value, REDACTED);
        assert_eq!(c.request_headers()[1].value, "*/*");
        assert_eq!(c.response_headers()[0].value, REDACTED);
    }

    #[test]
    fn invalid_extra_names_are_refused() {
        assert!(Redactor::from_list("ok, bad name").is_err());
        assert_eq!(Redactor::from_list(" , ").unwrap().names().count(), 16);
    }
}
