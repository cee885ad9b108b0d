//! Services created on the fly for the origins a forward-proxy client asks
//! for (`HTTP_PROXY`/`HTTPS_PROXY` pointed at ghost), so recording "whatever
//! the app calls" needs no configuration.
//!
//! That makes ghost an open forward proxy, so origins are allowed only for
//! hosts matching `--allow-hosts`; without the list, any host is allowed only
//! while ghost listens on loopback (only local clients can use it then).
//! An origin's service is derived from the origin alone (its name from the
//! host and port, its upstream the origin itself), so a restarted ghost — or
//! one replaying in MOCK with no network — routes the same host to the same
//! recordings without anything being saved.

use crate::config::{ServiceConfig, UpstreamTls};
use crate::routing::{RouteError, ServiceRoute};
use ghost_model::ServiceName;
use http::uri::{Authority, Scheme};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Most origins kept at once; beyond, new hosts are refused (a client
/// enumerating hosts must not grow ghost without bound).
const MAX_ORIGINS: usize = 4096;

/// Which hosts may get a service on the fly.
#[derive(Debug, Clone)]
pub enum AllowHosts {
    /// Any host (the default while listening on loopback).
    Any,
    /// Hosts matching one of these patterns: `api.example.com`,
    /// `*.example.com` (any subdomain), `*` (any host).
    Patterns(Vec<String>),
    /// None: ghost listens beyond loopback and no list was given.
    NoneWithoutList,
}

impl AllowHosts {
    /// From `--allow-hosts` (if given) and the proxy's listen address.
    pub fn new(patterns: Option<&[String]>, listen: SocketAddr) -> Self {
        match patterns {
            Some(p) => Self::Patterns(
                p.iter()
                    .map(|s| s.trim().to_ascii_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
            None if listen.ip().is_loopback() => Self::Any,
            None => Self::NoneWithoutList,
        }
    }

    fn allows(&self, host: &str) -> bool {
        match self {
            Self::Any => true,
            Self::NoneWithoutList => false,
            // Patterns are lower-cased once, at start-up.
            Self::Patterns(p) => p.iter().any(|pat| match pat.strip_prefix("*.") {
                Some(suffix) => {
                    // A subdomain: something, a dot, then the suffix.
                    let cut = host.len().saturating_sub(suffix.len());
                    cut > 1
                        && host.as_bytes().get(cut - 1) == Some(&b'.')
                        && host
                            .get(cut..)
                            .is_some_and(|t| t.eq_ignore_ascii_case(suffix))
                }
                None => pat == "*" || pat.eq_ignore_ascii_case(host),
            }),
        }
    }
}

/// Why an origin gets no service.
#[derive(Debug, thiserror::Error)]
pub enum OriginError {
    #[error(
        "ghost listens beyond loopback, so it forwards to hosts it was not configured for only when they match --allow-hosts (GHOST_ALLOW_HOSTS); `{0}` is not allowed"
    )]
    NotLoopback(String),
    #[error("host `{0}` does not match --allow-hosts (GHOST_ALLOW_HOSTS)")]
    NotAllowed(String),
    #[error("ghost already tracks {MAX_ORIGINS} origins; `{0}` is refused")]
    TooMany(String),
    #[error("`{0}` cannot be a service name")]
    Name(String),
    #[error(transparent)]
    Route(#[from] RouteError),
}

/// The service name of an origin: its host, with `-PORT` unless the port is
/// 443 over TLS. IPv6 colons become `-`.
pub fn service_name(scheme: &Scheme, authority: &Authority) -> Option<ServiceName> {
    let host = crate::routing::bare_host(authority.host());
    let default = if *scheme == Scheme::HTTPS { 443 } else { 80 };
    let port = authority.port_u16().unwrap_or(default);
    let mut name = host.replace(':', "-");
    if !(*scheme == Scheme::HTTPS && port == 443) {
        name = format!("{name}-{port}");
    }
    ServiceName::new(&name).ok()
}

/// The services created for origins so far.
#[derive(Debug)]
pub struct Origins {
    allow: AllowHosts,
    routes: Mutex<HashMap<(Scheme, Authority), Arc<ServiceRoute>>>,
}

impl Origins {
    pub fn new(allow: AllowHosts) -> Self {
        Self {
            allow,
            routes: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `host` may be reached through ghost at all.
    pub fn check(&self, host: &str) -> Result<(), OriginError> {
        let host = crate::routing::bare_host(host);
        match &self.allow {
            AllowHosts::NoneWithoutList => Err(OriginError::NotLoopback(host.to_owned())),
            a if a.allows(host) => Ok(()),
            _ => Err(OriginError::NotAllowed(host.to_owned())),
        }
    }

    /// The service of `scheme://authority`, created on first use.
    pub fn route(
        &self,
        scheme: &Scheme,
        authority: &Authority,
    ) -> Result<Arc<ServiceRoute>, OriginError> {
        self.check(authority.host())?;
        let key = (scheme.clone(), authority.clone());
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = routes.get(&key) {
            return Ok(r.clone());
        }
        if routes.len() >= MAX_ORIGINS {
            return Err(OriginError::TooMany(authority.to_string()));
        }
        let name = service_name(scheme, authority)
            .ok_or_else(|| OriginError::Name(authority.to_string()))?;
        let upstream = format!("{scheme}://{authority}")
            .parse()
            .map_err(|_| OriginError::Name(authority.to_string()))?;
        let route = Arc::new(ServiceRoute::build(&ServiceConfig {
            tenant: ghost_schema::DEFAULT_TENANT.to_owned(),
            name,
            upstream,
            host: None,
            path_prefix: None,
            preserve_host: false,
            tls: UpstreamTls::default(),
        })?);
        tracing::info!(service = %route.name, upstream = %route.upstream, "service created for a new origin");
        routes.insert(key, route.clone());
        Ok(route)
    }

    /// Every origin's service, in no particular order.
    pub fn all(&self) -> Vec<Arc<ServiceRoute>> {
        self.routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_origin() {
        let n = |s: &str, a: &str| {
            service_name(&s.parse().unwrap(), &a.parse().unwrap()).map(|n| n.to_string())
        };
        assert_eq!(
            n("https", "api.stripe.com").as_deref(),
            Some("api.stripe.com")
        );
        assert_eq!(
            n("https", "api.stripe.com:443").as_deref(),
            Some("api.stripe.com")
        );
        assert_eq!(
            n("https", "api.stripe.com:8443").as_deref(),
            Some("api.stripe.com-8443")
        );
        assert_eq!(
            n("http", "example.test").as_deref(),
            Some("example.test-80")
        );
        assert_eq!(
            n("http", "127.0.0.1:3000").as_deref(),
            Some("127.0.0.1-3000")
        );
        assert_eq!(n("http", "[::1]:3000").as_deref(), Some("--1-3000"));
    }

    #[test]
    fn allow_lists() {
        let lo: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(AllowHosts::new(None, lo).allows("anything.test"));
        assert!(!AllowHosts::new(None, any).allows("anything.test"));
        let p = AllowHosts::new(
            Some(&["*.Example.com".to_owned(), "api.test".to_owned()]),
            any,
        );
        assert!(p.allows("a.example.com") && p.allows("A.B.EXAMPLE.COM") && p.allows("api.test"));
        assert!(
            !p.allows("example.com") && !p.allows("evil-example.com") && !p.allows("x.api.test")
        );
        assert!(AllowHosts::new(Some(&["*".to_owned()]), any).allows("x"));
        let o = Origins::new(AllowHosts::new(None, any));
        let e = o.check("x.test").unwrap_err().to_string();
        assert!(e.contains("--allow-hosts"), "{e}");
    }
}
