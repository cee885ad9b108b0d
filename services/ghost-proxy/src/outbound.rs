//! The head of the request ghost sends upstream, derived from what the client
//! sent (pure: no I/O).
//!
//! RFC 9112 §3.2: a request to an origin server carries the origin-form target
//! (`/path?query`), never the absolute-form a client sends to a proxy; many
//! servers (Python's `http.server`, Express, Flask's dev server) route on the raw
//! target and answer 404 to anything else. The path and query go out byte for
//! byte as the client sent them (no re-encoding, no reordering), behind the
//! upstream URL's own base path.

use http::uri::{Authority, PathAndQuery};
use http::{HeaderMap, HeaderValue, Method, Uri, header};

/// Headers that describe one connection hop (RFC 9110 §7.6.1) and are never
/// forwarded, recorded or replayed. `Trailer` is not one of them: it announces
/// the trailer fields of this message end to end (and hyper only writes the
/// trailers it lists).
pub const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "transfer-encoding",
    "upgrade",
];

/// Whether `name` (any case) is hop-by-hop.
pub fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// [`is_hop_by_hop`] for a parsed name: `HeaderName`s are lower-case already,
/// so plain comparisons, no case folding.
pub(crate) fn is_hop(name: &http::HeaderName) -> bool {
    HOP_BY_HOP.contains(&name.as_str())
}

/// Why a request-target cannot be forwarded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum TargetError {
    #[error("the asterisk-form request-target `*` is only valid with OPTIONS, not {0}")]
    AsteriskNotOptions(Method),
    #[error("`{0}` prefixed with the upstream's base path is not a valid request-target")]
    Invalid(String),
}

/// The request-target to send upstream: `base_path` + the client's path and
/// query verbatim (origin-form), or `*` for `OPTIONS *` (asterisk-form).
/// `base_path` has no trailing `/` (empty for most upstreams).
pub(crate) fn target(
    base_path: &str,
    method: &Method,
    uri: &Uri,
) -> Result<PathAndQuery, TargetError> {
    let pq = uri.path_and_query();
    if pq.is_some_and(|p| p.as_str() == "*") {
        if method != Method::OPTIONS {
            return Err(TargetError::AsteriskNotOptions(method.clone()));
        }
        return Ok(PathAndQuery::from_static("*"));
    }
    // An absolute-form target without a path (`http://h`) means `/`.
    let given = match pq {
        Some(p) if p.as_str().starts_with('/') => p.clone(),
        Some(p) => return prefixed(base_path, &format!("/{p}")),
        None => PathAndQuery::from_static("/"),
    };
    if base_path.is_empty() {
        return Ok(given);
    }
    prefixed(base_path, given.as_str())
}

fn prefixed(base_path: &str, pq: &str) -> Result<PathAndQuery, TargetError> {
    let joined = format!("{base_path}{pq}");
    PathAndQuery::try_from(joined.as_str()).map_err(|_| TargetError::Invalid(pq.to_owned()))
}

/// Removes hop-by-hop headers and every header the `Connection` header names
/// (RFC 9110 §7.6.1). Returns whether the message's `TE` accepted trailers, so a
/// request can tell the next hop that this proxy forwards them.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) -> bool {
    // Most messages carry none: one pass over the names is cheaper than a remove
    // (a hash and probe) per hop-by-hop name. `HeaderName`s are lower-case.
    if !headers.keys().any(is_hop) {
        return false;
    }
    let trailers = headers
        .get_all(header::TE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            t.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("trailers"))
        });
    // Collecting the listed names allocates only when a Connection header is present.
    let listed: Vec<String> = match headers.get(header::CONNECTION) {
        None => Vec::new(),
        Some(_) => headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect(),
    };
    // `HeaderMap::remove` swaps the last entry into the hole, which would reorder
    // the headers that stay: rebuild the map in order instead.
    let mut kept = HeaderMap::with_capacity(headers.len());
    // The iterator names a header once, then yields its further values unnamed.
    let mut current = None;
    for (name, value) in std::mem::take(headers) {
        if let Some(name) = name {
            let hop = is_hop(&name) || listed.iter().any(|l| l == name.as_str());
            current = (!hop).then_some(name);
        }
        if let Some(name) = &current {
            kept.append(name.clone(), value);
        }
    }
    *headers = kept;
    trailers
}

/// Prepares request headers for the upstream: hop-by-hop headers removed,
/// `TE: trailers` kept when the client accepts trailers (ghost forwards them),
/// and `Host` set to the upstream's authority, or, when the service preserves
/// it, kept as the client sent it (HTTP/2 clients send `:authority` instead,
/// which `client_authority` carries).
pub(crate) fn request_headers(
    headers: &mut HeaderMap,
    upstream_host: &HeaderValue,
    preserve_host: bool,
    client_authority: Option<&Authority>,
) {
    if strip_hop_by_hop(headers) {
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
    }
    if preserve_host {
        if headers.contains_key(header::HOST) {
            return;
        }
        if let Some(v) = client_authority.and_then(|a| HeaderValue::from_str(a.as_str()).ok()) {
            headers.insert(header::HOST, v);
            return;
        }
    }
    headers.insert(header::HOST, upstream_host.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(base: &str, method: Method, uri: &str) -> Result<String, TargetError> {
        target(base, &method, &uri.parse().unwrap()).map(|p| p.as_str().to_owned())
    }

    #[test]
    fn origin_form_from_every_form_the_client_may_send() {
        assert_eq!(
            t("", Method::GET, "/v1/users/42?x=1").unwrap(),
            "/v1/users/42?x=1"
        );
        assert_eq!(
            t("", Method::GET, "http://127.0.0.1:9/v1/users/42?x=1").unwrap(),
            "/v1/users/42?x=1"
        );
        assert_eq!(t("", Method::GET, "http://h").unwrap(), "/");
        assert_eq!(t("/api", Method::GET, "http://h").unwrap(), "/api/");
        assert_eq!(t("/api", Method::GET, "/v1/x").unwrap(), "/api/v1/x");
        assert_eq!(t("/api", Method::GET, "/?a=1").unwrap(), "/api/?a=1");
    }

    #[test]
    fn path_and_query_keep_their_bytes() {
        for raw in [
            "/a%2fb/%7Euser?b=2&a=1&a=0",
            "/sp%20ace?q=a+b&empty=&flag",
            "/x;matrix=1/y?%zz=%",
            "/caf%C3%A9?emoji=%F0%9F%91%BB",
            "//double//slash?",
            "/?",
        ] {
            assert_eq!(t("", Method::GET, raw).unwrap(), raw);
            assert_eq!(t("/base", Method::GET, raw).unwrap(), format!("/base{raw}"));
        }
    }

    #[test]
    fn asterisk_form_only_for_options() {
        assert_eq!(t("/api", Method::OPTIONS, "*").unwrap(), "*");
        assert_eq!(
            t("", Method::GET, "*"),
            Err(TargetError::AsteriskNotOptions(Method::GET))
        );
    }

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn hop_by_hop_and_connection_listed_headers_go() {
        let mut h = map(&[
            ("connection", "keep-alive, X-Hop, close"),
            ("connection", "x-other"),
            ("keep-alive", "timeout=5"),
            ("x-hop", "1"),
            ("x-other", "2"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("proxy-connection", "keep-alive"),
            ("trailer", "x-checksum"),
            ("x-end-to-end", "3"),
            ("x-end-to-end", "4"),
            ("a-last", "5"),
        ]);
        assert!(!strip_hop_by_hop(&mut h));
        let left: Vec<_> = h
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            left,
            [
                ("trailer", "x-checksum"),
                ("x-end-to-end", "3"),
                ("x-end-to-end", "4"),
                ("a-last", "5")
            ]
        );
    }

    #[test]
    fn te_trailers_is_kept_alone() {
        let up = HeaderValue::from_static("up:1");
        let mut h = map(&[("te", "gzip;q=0.5, Trailers"), ("host", "client")]);
        request_headers(&mut h, &up, false, None);
        assert_eq!(h["te"], "trailers");
        assert_eq!(h["host"], "up:1");
        let mut h = map(&[("te", "gzip")]);
        request_headers(&mut h, &up, false, None);
        assert!(h.get("te").is_none());
    }

    #[test]
    fn host_is_the_upstream_unless_preserved() {
        let up = HeaderValue::from_static("up:1");
        let h2: Authority = "h2.example".parse().unwrap();
        let mut h = map(&[("host", "api.example.com")]);
        request_headers(&mut h, &up, true, Some(&h2));
        assert_eq!(h["host"], "api.example.com");
        let mut h = HeaderMap::new();
        request_headers(&mut h, &up, true, Some(&h2));
        assert_eq!(h["host"], "h2.example");
        let mut h = HeaderMap::new();
        request_headers(&mut h, &up, true, None);
        assert_eq!(h["host"], "up:1");
        let mut h = map(&[("host", "api.example.com")]);
        request_headers(&mut h, &up, false, Some(&h2));
        assert_eq!(h["host"], "up:1");
    }
}
