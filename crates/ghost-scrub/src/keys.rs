//! Sensitive JSON key names: whatever value sits under them becomes `"[REDACTED]"`.
//!
//! Names are compared after normalisation (ASCII lowercase, `_` `-` `.` and spaces
//! removed), so `apiKey`, `API-KEY` and `api_key` are one name. Two lists exist
//! because some words are only sensitive on their own (`token`, `pin`, `auth`:
//! `max_tokens` or `pinned` must survive) while others are sensitive wherever they
//! appear inside a name (`db_password`, `stripeSecretKey`, `x-api-key`); the second
//! list is searched with one Aho-Corasick automaton.

use std::collections::HashSet;

use aho_corasick::AhoCorasick;

/// Names sensitive only as the whole (normalised) key.
const EXACT: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "clientsecret",
    "apikey",
    "apisecret",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "token",
    "authtoken",
    "auth",
    "authorization",
    "proxyauthorization",
    "bearer",
    "cvv",
    "cvv2",
    "cvc",
    "cardnumber",
    "pan",
    "pin",
    "mfacode",
    "otp",
    "totp",
    "otpcode",
    "verificationcode",
    "ssn",
    "socialsecuritynumber",
    "privatekey",
    "secretkey",
    "session",
    "sessionid",
    "sessiontoken",
    "cookie",
    "setcookie",
    "credentials",
    "signature",
    "securitycode",
    "accountnumber",
];

/// Fragments that make any key containing them sensitive.
const FRAGMENTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "apikey",
    "accesstoken",
    "refreshtoken",
    "privatekey",
    "sessiontoken",
    "authtoken",
    "cardnumber",
    "accesskey",
];

/// Normalises a key for comparison; allocation-free when the key is already plain
/// lowercase alphanumerics.
pub(crate) fn normalize(key: &str) -> std::borrow::Cow<'_, str> {
    let plain = key
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if plain {
        return std::borrow::Cow::Borrowed(key);
    }
    std::borrow::Cow::Owned(
        key.chars()
            .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
            .map(|c| c.to_ascii_lowercase())
            .collect(),
    )
}

/// The compiled key matcher.
#[derive(Debug, Clone)]
pub struct SensitiveKeys {
    exact: HashSet<String>,
    fragments: Option<AhoCorasick>,
}

impl SensitiveKeys {
    /// The built-in names plus `extra` (normalised the same way; matched exactly).
    pub fn new(extra: &[String]) -> Self {
        let exact = EXACT
            .iter()
            .map(|s| (*s).to_owned())
            .chain(extra.iter().map(|s| normalize(s).into_owned()))
            .filter(|s| !s.is_empty())
            .collect();
        // Building from a fixed list of short literals cannot fail in practice;
        // if it ever did, exact names still protect the common keys.
        let fragments = AhoCorasick::new(FRAGMENTS).ok();
        SensitiveKeys { exact, fragments }
    }

    /// Whether the value under `key` must be redacted whole.
    pub fn is_sensitive(&self, key: &str) -> bool {
        let n = normalize(key);
        self.exact.contains(n.as_ref())
            || self
                .fragments
                .as_ref()
                .is_some_and(|ac| ac.is_match(n.as_ref()))
    }

    /// How many exact names are configured (built-in plus extra).
    pub fn len(&self) -> usize {
        self.exact.len()
    }

    /// Never true in practice; present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }
}

/// Whether a key names a version, where dotted quads are versions, not addresses.
pub fn is_version_key(key: &str) -> bool {
    let n = normalize(key);
    n.contains("version") || n == "ver" || n.ends_with("build") || n == "release"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_case_do_not_matter() {
        let k = SensitiveKeys::new(&[]);
        for key in [
            "apiKey",
            "API-KEY",
            "api_key",
            "Api.Key",
            "X-Api-Key",
            "db_password",
            "newPassword",
            "client_secret",
            "stripeSecretKey",
            "refresh_token",
            "MFA_CODE",
            "cvv",
            "Set-Cookie",
            "aws_access_key_id",
        ] {
            assert!(k.is_sensitive(key), "{key}");
        }
    }

    #[test]
    fn near_misses_survive() {
        let k = SensitiveKeys::new(&[]);
        for key in [
            "max_tokens",
            "token_type",
            "tokens_used",
            "pinned",
            "author",
            "passenger",
            "session_count",
            "email",
            "id",
            "version",
        ] {
            assert!(!k.is_sensitive(key), "{key}");
        }
    }

    #[test]
    fn extra_keys_are_normalised() {
        let k = SensitiveKeys::new(&["Tax-ID".to_owned()]);
        assert!(k.is_sensitive("tax_id"));
        assert!(k.is_sensitive("taxId"));
        assert!(EXACT.len() >= 36);
    }
}
