//! Scrubbing the non-JSON parts of an exchange: URLs, header values, form and
//! text bodies.
//!
//! URLs keep their shape: scheme and host are the configured upstream and stay as
//! they are (an `[IPV4]` host would not even parse), a userinfo password becomes
//! `[REDACTED]`, and each path segment, query value and fragment value is decoded,
//! scrubbed and re-encoded only if something changed. Placeholders keep their
//! brackets unencoded so recordings stay readable.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::json::REDACTED;
use crate::keys::{SensitiveKeys, normalize};
use crate::pii::{Detector, Skip};
use crate::report::ScrubReport;

/// Characters left as-is when re-encoding a scrubbed component.
const KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'[')
    .remove(b']')
    .remove(b'@')
    .remove(b':');

pub(crate) struct Ctx<'a> {
    pub(crate) det: &'a Detector,
    pub(crate) keys: &'a SensitiveKeys,
}

impl Ctx<'_> {
    /// One URL component: scrubbed raw if it has no escapes, else decoded, scrubbed
    /// and re-encoded. `None` when unchanged.
    fn component(
        &self,
        raw: &str,
        plus_is_space: bool,
        report: &mut ScrubReport,
    ) -> Option<String> {
        let escaped = raw.contains('%') || (plus_is_space && raw.contains('+'));
        if !escaped {
            return match self
                .det
                .scrub_text_counted(raw, Skip::NONE, &mut |c| report.add(c))
            {
                Cow::Owned(s) => Some(s),
                Cow::Borrowed(_) => None,
            };
        }
        let spaced = if plus_is_space {
            Cow::Owned(raw.replace('+', " "))
        } else {
            Cow::Borrowed(raw)
        };
        // Undecodable (non-UTF-8) escapes cannot hide text the regexes would match.
        let decoded = percent_decode_str(&spaced).decode_utf8().ok()?;
        match self
            .det
            .scrub_text_counted(&decoded, Skip::NONE, &mut |c| report.add(c))
        {
            Cow::Owned(s) => Some(utf8_percent_encode(&s, KEEP).to_string()),
            Cow::Borrowed(_) => None,
        }
    }

    /// `a=1&b=2` query strings, fragments and form bodies. Values under sensitive
    /// keys are redacted whole; others go through the regex pass.
    pub(crate) fn query(&self, q: &str, report: &mut ScrubReport) -> Option<String> {
        let mut changed = false;
        let mut parts: Vec<Cow<'_, str>> = Vec::new();
        for pair in q.split('&') {
            let new = match pair.split_once('=') {
                Some((k, v)) => {
                    let key = percent_decode_str(&k.replace('+', " "))
                        .decode_utf8_lossy()
                        .into_owned();
                    if self.keys.is_sensitive(&key) && !v.is_empty() && v != REDACTED {
                        report.keys += 1;
                        Some(format!("{k}={REDACTED}"))
                    } else {
                        self.component(v, true, report)
                            .map(|nv| format!("{k}={nv}"))
                    }
                }
                // A bare token (`?eyJ…`) has no key; scrub it in place.
                None => self.component(pair, true, report),
            };
            match new {
                Some(s) => {
                    changed = true;
                    parts.push(Cow::Owned(s));
                }
                None => parts.push(Cow::Borrowed(pair)),
            }
        }
        changed.then(|| parts.join("&"))
    }

    pub(crate) fn url<'u>(&self, url: &'u str, report: &mut ScrubReport) -> Cow<'u, str> {
        let (before_frag, frag) = match url.split_once('#') {
            Some((a, f)) => (a, Some(f)),
            None => (url, None),
        };
        let (before_query, query) = match before_frag.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (before_frag, None),
        };
        let (origin, path) = split_origin(before_query);
        let origin_new = scrub_userinfo(origin, report);
        let mut changed = origin_new.is_some();
        let mut segs = Vec::new();
        for seg in path.split('/') {
            match self.component(seg, false, report) {
                Some(s) => {
                    changed = true;
                    segs.push(Cow::Owned(s));
                }
                None => segs.push(Cow::Borrowed(seg)),
            }
        }
        let query_new = query.and_then(|q| self.query(q, report));
        let frag_new = frag.and_then(|f| self.query(f, report));
        changed |= query_new.is_some() || frag_new.is_some();
        if !changed {
            return Cow::Borrowed(url);
        }
        let mut out = origin_new.unwrap_or_else(|| origin.to_owned());
        out.push_str(&segs.join("/"));
        if let Some(q) = query {
            out.push('?');
            out.push_str(query_new.as_deref().unwrap_or(q));
        }
        if let Some(f) = frag {
            out.push('#');
            out.push_str(frag_new.as_deref().unwrap_or(f));
        }
        Cow::Owned(out)
    }

    pub(crate) fn header<'v>(
        &self,
        name: &str,
        value: &'v str,
        report: &mut ScrubReport,
    ) -> Cow<'v, str> {
        let n = normalize(name);
        match n.as_ref() {
            "authorization" | "proxyauthorization" => {
                let scrubbed = self
                    .det
                    .scrub_text_counted(value, Skip::NONE, &mut |c| report.add(c));
                if matches!(scrubbed, Cow::Owned(_)) || value == REDACTED {
                    return scrubbed;
                }
                report.keys += 1;
                // Keep the scheme (`Bearer`, `Digest`, …): it says how the client
                // authenticated without saying with what.
                Cow::Owned(match value.split_once(' ') {
                    Some((scheme, _)) => format!("{scheme} {REDACTED}"),
                    None => REDACTED.to_owned(),
                })
            }
            "cookie" => {
                report.keys += 1;
                Cow::Owned(redact_cookie_pairs(value, usize::MAX))
            }
            "setcookie" => {
                report.keys += 1;
                Cow::Owned(redact_cookie_pairs(value, 1))
            }
            _ if self.keys.is_sensitive(name) => {
                report.keys += 1;
                Cow::Borrowed(REDACTED)
            }
            _ => self
                .det
                .scrub_text_counted(value, Skip::NONE, &mut |c| report.add(c)),
        }
    }
}

/// `scheme://authority` (or empty for relative URLs) and the rest.
fn split_origin(s: &str) -> (&str, &str) {
    let Some(i) = s.find("://") else {
        return ("", s);
    };
    let after = i + 3;
    let end = s[after..].find('/').map_or(s.len(), |j| after + j);
    (&s[..end], &s[end..])
}

fn scrub_userinfo(origin: &str, report: &mut ScrubReport) -> Option<String> {
    let start = origin.find("://")? + 3;
    let at = origin[start..].rfind('@')? + start;
    let colon = origin[start..at].find(':')? + start;
    report.keys += 1;
    Some(format!("{}{REDACTED}{}", &origin[..=colon], &origin[at..]))
}

/// Cookie names stay (they identify the cookie), values go; for `Set-Cookie` only
/// the first pair is the cookie, the rest are attributes like `Path`.
fn redact_cookie_pairs(value: &str, limit: usize) -> String {
    value
        .split(';')
        .enumerate()
        .map(|(i, part)| match part.split_once('=') {
            Some((k, _)) if i < limit => format!("{k}={REDACTED}"),
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}
