//! Which service a request belongs to: by `Host`, by path prefix, else `default`.

use crate::config::ServiceConfig;
use crate::upstream_tls::{self, HttpsClient, TlsConfigError};
use ghost_model::ServiceName;
use http::HeaderValue;
use http::uri::{Authority, Scheme};
use std::sync::Arc;

/// A routable service with its upstream pre-parsed for the hot path.
#[derive(Debug)]
pub struct ServiceRoute {
    pub name: ServiceName,
    /// The tenant its captures belong to.
    pub tenant: String,
    pub scheme: Scheme,
    pub authority: Authority,
    /// Upstream path prefix without a trailing `/` (often empty).
    pub base_path: String,
    /// `Host` header value sent upstream.
    pub host_header: HeaderValue,
    /// Send the client's `Host` instead of `host_header`.
    pub preserve_host: bool,
    pub upstream: String,
    /// The pooled TLS client of an `https://` upstream (`None` for `http://`,
    /// which forwards on each downstream connection's own upstream link).
    pub(crate) https: Option<HttpsClient>,
    /// `insecure_skip_verify` is set: shown wherever the service is listed.
    pub insecure_skip_verify: bool,
    host: Option<String>,
    prefix: Option<String>,
}

/// Why a service's upstream is unusable.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error(
        "service `{service}`: upstream `{upstream}` must be an absolute http:// or https:// URL"
    )]
    Upstream { service: String, upstream: String },
    #[error("service `{service}`: {source}")]
    Tls {
        service: String,
        #[source]
        source: TlsConfigError,
    },
}

/// The routing table, in configuration order.
#[derive(Debug, Default)]
pub struct Routes {
    services: Vec<Arc<ServiceRoute>>,
    default: Option<Arc<ServiceRoute>>,
}

impl ServiceRoute {
    /// Checks a service's configuration and pre-parses it for the hot path.
    pub(crate) fn build(c: &ServiceConfig) -> Result<Self, RouteError> {
        let err = || RouteError::Upstream {
            service: c.name.to_string(),
            upstream: c.upstream.to_string(),
        };
        let scheme = c.upstream.scheme().cloned().ok_or_else(err)?;
        let https = if scheme == Scheme::HTTPS {
            let config = upstream_tls::client_config(&c.tls).map_err(|source| RouteError::Tls {
                service: c.name.to_string(),
                source,
            })?;
            if c.tls.insecure_skip_verify {
                tracing::warn!(
                    service = %c.name,
                    upstream = %c.upstream,
                    "insecure_skip_verify is set: ghost accepts ANY certificate from this upstream, so anyone on the path can read and change its traffic"
                );
            }
            Some(upstream_tls::https_client(config))
        } else if scheme == Scheme::HTTP {
            None
        } else {
            return Err(err());
        };
        let authority = c.upstream.authority().cloned().ok_or_else(err)?;
        let host_header = HeaderValue::from_str(authority.as_str()).map_err(|_| err())?;
        Ok(ServiceRoute {
            name: c.name.clone(),
            tenant: c.tenant.clone(),
            insecure_skip_verify: https.is_some() && c.tls.insecure_skip_verify,
            scheme,
            authority,
            base_path: c.upstream.path().trim_end_matches('/').to_owned(),
            host_header,
            preserve_host: c.preserve_host,
            upstream: c.upstream.to_string(),
            https,
            host: c.host.as_ref().map(|h| h.to_ascii_lowercase()),
            prefix: c
                .path_prefix
                .as_ref()
                .map(|p| p.trim_end_matches('/').to_owned()),
        })
    }

    /// Whether this service's upstream is `scheme://authority` (default ports
    /// spelled or not, host in any case).
    fn is_origin(&self, scheme: &Scheme, authority: &Authority) -> bool {
        let port = |s: &Scheme, a: &Authority| {
            a.port_u16()
                .unwrap_or(if *s == Scheme::HTTPS { 443 } else { 80 })
        };
        self.scheme == *scheme
            && self.authority.host().eq_ignore_ascii_case(authority.host())
            && port(&self.scheme, &self.authority) == port(scheme, authority)
    }

    fn matches(&self, host: Option<&str>, path: &str) -> bool {
        let host_ok = match (&self.host, host) {
            (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
            (Some(_), None) => false,
            (None, _) => true,
        };
        let prefix_ok = match &self.prefix {
            Some(p) => {
                path.starts_with(p.as_str())
                    && matches!(path.as_bytes().get(p.len()), None | Some(b'/') | Some(b'?'))
            }
            None => true,
        };
        (self.host.is_some() || self.prefix.is_some()) && host_ok && prefix_ok
    }
}

/// An authority's host without the brackets of an IPv6 literal (`[::1]` → `::1`),
/// as sockets, certificates and SNI want it.
pub(crate) fn bare_host(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// The host of a `Host` header or authority, without its port.
fn host_only(h: &str) -> &str {
    match h.strip_prefix('[') {
        // An IPv6 literal: everything up to the closing bracket.
        Some(rest) => rest.split_once(']').map_or(h, |(ip, _)| ip),
        None => h.rsplit_once(':').map_or(h, |(name, _)| name),
    }
}

impl Routes {
    pub fn new(configs: &[ServiceConfig]) -> Result<Self, RouteError> {
        let mut routes = Routes::default();
        for c in configs {
            let route = Arc::new(ServiceRoute::build(c)?);
            if c.name.as_str() == ServiceName::DEFAULT {
                routes.default = Some(route.clone());
            }
            routes.services.push(route);
        }
        Ok(routes)
    }

    /// The configured service for a request a client sent as to a proxy,
    /// naming `scheme://authority`: by `host`, then path prefix, then the
    /// service whose upstream is that origin; no `default` fallback. An
    /// upstream with a base path is matched only through `host` or a prefix,
    /// since the client's path already holds whatever the origin expects.
    pub fn by_target(
        &self,
        scheme: &Scheme,
        authority: &Authority,
        path: &str,
    ) -> Option<&Arc<ServiceRoute>> {
        let host = host_only(authority.as_str());
        self.services
            .iter()
            .find(|s| s.matches(Some(host), path))
            .or_else(|| {
                self.services
                    .iter()
                    .find(|s| s.base_path.is_empty() && s.is_origin(scheme, authority))
            })
    }

    /// The service for a request's `Host` (port ignored) and path.
    pub fn resolve(&self, host: Option<&str>, path: &str) -> Option<&Arc<ServiceRoute>> {
        let host = host.map(host_only);
        self.services
            .iter()
            .find(|s| s.matches(host, path))
            .or(self.default.as_ref())
    }

    pub fn get(&self, name: &ServiceName) -> Option<&Arc<ServiceRoute>> {
        self.services.iter().find(|s| &s.name == name)
    }

    pub fn all(&self) -> &[Arc<ServiceRoute>] {
        &self.services
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, up: &str, host: Option<&str>, prefix: Option<&str>) -> ServiceConfig {
        ServiceConfig {
            tenant: ghost_schema::DEFAULT_TENANT.to_owned(),
            preserve_host: false,
            tls: Default::default(),
            name: ServiceName::new(name).unwrap(),
            upstream: up.parse().unwrap(),
            host: host.map(str::to_owned),
            path_prefix: prefix.map(str::to_owned),
        }
    }

    #[test]
    fn routes_by_host_then_prefix_then_default() {
        let r = Routes::new(&[
            svc("stripe", "http://127.0.0.1:1", Some("api.stripe.com"), None),
            svc("users", "http://127.0.0.1:2/base/", None, Some("/users")),
            svc("default", "http://127.0.0.1:3", None, None),
        ])
        .unwrap();
        assert_eq!(
            r.resolve(Some("api.stripe.com:443"), "/v1")
                .unwrap()
                .name
                .as_str(),
            "stripe"
        );
        assert_eq!(
            r.resolve(Some("localhost"), "/users/1")
                .unwrap()
                .name
                .as_str(),
            "users"
        );
        assert_eq!(
            r.resolve(Some("localhost"), "/usersx")
                .unwrap()
                .name
                .as_str(),
            "default"
        );
        assert_eq!(
            r.get(&ServiceName::new("users").unwrap())
                .unwrap()
                .base_path,
            "/base"
        );
    }

    #[test]
    fn proxy_targets_find_the_service_whose_upstream_is_that_origin() {
        let r = Routes::new(&[
            svc("stripe", "https://API.stripe.com", None, None),
            svc("based", "http://127.0.0.1:9/v1", None, None),
            svc("local", "http://127.0.0.1:8", None, None),
        ])
        .unwrap();
        let find = |scheme: Scheme, authority: &str| {
            r.by_target(&scheme, &authority.parse().unwrap(), "/x")
                .map(|s| s.name.to_string())
        };
        assert_eq!(
            find(Scheme::HTTPS, "api.stripe.com:443").as_deref(),
            Some("stripe")
        );
        assert_eq!(
            find(Scheme::HTTPS, "api.stripe.com").as_deref(),
            Some("stripe")
        );
        assert_eq!(
            find(Scheme::HTTP, "api.stripe.com"),
            None,
            "another scheme is another origin"
        );
        assert_eq!(find(Scheme::HTTPS, "api.stripe.com:8443"), None);
        assert_eq!(find(Scheme::HTTP, "127.0.0.1:8").as_deref(), Some("local"));
        assert_eq!(
            find(Scheme::HTTP, "127.0.0.1:9"),
            None,
            "a base path is not matched by origin"
        );
    }

    #[test]
    fn refuses_non_http_upstreams() {
        assert!(Routes::new(&[svc("a", "/relative", None, None)]).is_err());
        assert!(Routes::new(&[svc("a", "ftp://x", None, None)]).is_err());
        let r = Routes::new(&[svc("a", "https://example.test", None, None)]).unwrap();
        assert!(r.all()[0].https.is_some());
    }
}
