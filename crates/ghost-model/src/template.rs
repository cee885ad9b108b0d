//! Path templates for smart swap: which path segments are ids.
//!
//! `/users/42/orders/ord_8Hx2kP9q` has the template `/users/{}/orders/{}` with
//! parameters `42` and `ord_8Hx2kP9q`. A segment is an id when it is all digits,
//! a UUID, a long hex string with a digit, a prefixed id (`cus_Nf3rFe...`), or a
//! long mixed letters-and-digits token. Words (`users`, `v1`, `me`) never are.

/// A path split into its template and the id values found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate<'a> {
    /// The path with every id segment replaced by `{}`.
    pub template: String,
    /// (segment index, value) for each id segment, in path order.
    pub params: Vec<(usize, &'a str)>,
}

/// Splits `path` (no query) into template and parameters.
pub fn infer(path: &str) -> PathTemplate<'_> {
    let mut template = String::with_capacity(path.len());
    let mut params = Vec::new();
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            template.push('/');
        }
        if is_id(seg) {
            template.push_str("{}");
            params.push((i, seg));
        } else {
            template.push_str(seg);
        }
    }
    PathTemplate { template, params }
}

/// Whether a path segment looks like an identifier rather than a word.
pub fn is_id(seg: &str) -> bool {
    if seg.is_empty() {
        return false;
    }
    let b = seg.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    if digits == b.len() {
        return true;
    }
    if is_uuid(b) {
        return true;
    }
    if b.len() >= 16 && digits > 0 && b.iter().all(|c| c.is_ascii_hexdigit()) {
        return true;
    }
    if let Some((prefix, rest)) = seg.split_once('_') {
        let prefix_ok =
            (1..=12).contains(&prefix.len()) && prefix.bytes().all(|c| c.is_ascii_alphabetic());
        let rest_ok = rest.len() >= 6
            && rest.bytes().all(|c| c.is_ascii_alphanumeric())
            && (rest.bytes().any(|c| c.is_ascii_digit()) || rest.len() >= 14);
        if prefix_ok && rest_ok {
            return true;
        }
    }
    b.len() >= 12
        && digits > 0
        && b.iter().any(|c| c.is_ascii_alphabetic())
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ids() {
        let t = infer("/users/42/orders/ord_8Hx2kP9q");
        assert_eq!(t.template, "/users/{}/orders/{}");
        assert_eq!(t.params, vec![(2, "42"), (4, "ord_8Hx2kP9q")]);
        assert!(is_id("550e8400-e29b-41d4-a716-446655440000"));
        assert!(is_id("507f1f77bcf86cd799439011"));
        assert!(is_id("cus_NffrFeUfNV2Hib"));
        assert!(is_id("a1b2c3d4e5f6g7"));
    }

    #[test]
    fn words_are_not_ids() {
        for w in [
            "users",
            "v1",
            "me",
            "api",
            "snake_case",
            "2fa-setup",
            "deadbeef",
            "index.html",
        ] {
            assert!(!is_id(w), "{w}");
        }
        assert_eq!(infer("/").template, "/");
        assert!(infer("/a/b").params.is_empty());
    }
}
