//! Explaining a miss: the nearest recordings and why each did not match.

use super::Library;
use ghost_model::fingerprint::{normalize_path, normalized_uri, split_query};
use ghost_model::template;
use serde::Serialize;

/// How many candidates a miss report names.
const MAX_CANDIDATES: usize = 3;

/// A recording that came close, and what differs.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MissCandidate {
    pub method: String,
    pub uri: String,
    pub status: u16,
    pub reasons: Vec<String>,
}

/// The body of a miss response.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MissReport {
    pub service: String,
    pub method: String,
    pub uri: String,
    pub library_size: usize,
    pub candidates: Vec<MissCandidate>,
}

pub(super) fn explain(
    lib: &Library,
    service: &str,
    method: &str,
    path_and_query: &str,
    body_fp: u128,
) -> MissReport {
    let wanted_uri = normalized_uri(path_and_query);
    let (wanted_path, wanted_query) = split_query(&wanted_uri);
    let wanted_t = template::infer(wanted_path).template;
    let wanted_segs: Vec<&str> = wanted_path.split('/').collect();

    let mut scored: Vec<(u32, &super::Recording)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in lib.recordings().rev() {
        if &*r.service != service || !seen.insert(r.key) {
            continue;
        }
        let (path, query) = split_query(&r.normalized_uri);
        let shared = path
            .split('/')
            .zip(wanted_segs.iter())
            .take_while(|(a, b)| a == *b)
            .count() as u32;
        let score = u32::from(&*r.method == method) * 4
            + u32::from(path == wanted_path) * 16
            + u32::from(template::infer(path).template == wanted_t) * 8
            + u32::from(query == wanted_query) * 2
            + u32::from(r.body_fp == body_fp)
            + shared;
        scored.push((score, r));
    }
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    let candidates = scored
        .into_iter()
        .take(MAX_CANDIDATES)
        .map(|(_, r)| {
            let (path, query) = split_query(&r.normalized_uri);
            let mut reasons = Vec::new();
            if &*r.method != method {
                reasons.push(format!("method differs: recorded {}, requested {method}", r.method));
            }
            if path != wanted_path {
                if template::infer(path).template == wanted_t {
                    reasons.push(format!(
                        "path differs: recorded {path}; same template but smart swap found no usable recording"
                    ));
                } else {
                    reasons.push(format!("path differs: recorded {path}, requested {wanted_path}"));
                }
            }
            if query != wanted_query {
                reasons.push(format!(
                    "query differs: recorded `{}`, requested `{}`",
                    query.unwrap_or(""),
                    wanted_query.unwrap_or("")
                ));
            }
            if r.body_fp != body_fp {
                reasons.push("request body differs from the recorded one".to_owned());
            }
            if reasons.is_empty() {
                reasons.push("recorded request matches but was not servable".to_owned());
            }
            MissCandidate {
                method: r.method.to_string(),
                uri: r.uri.to_string(),
                status: r.response.status.as_u16(),
                reasons,
            }
        })
        .collect();
    MissReport {
        service: service.to_owned(),
        method: method.to_owned(),
        uri: normalize_path(path_and_query).into_owned(),
        library_size: lib.len(),
        candidates,
    }
}
