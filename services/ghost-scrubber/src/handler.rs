//! The scrubber worker: each capture in, one sealed scrubbed capture out, with
//! the rule set of its service.

use crate::config_store::{Compiled, ConfigStore};
use ghost_model::REDACTED;
use ghost_schema::{CaptureRecord, FindingRecord, HeaderRecord, ScrubbedCaptureRecord};
use ghost_topics::{self as topics, Topic};
use ghost_worker::{Handled, Input, Output, Rejected, Transient, Worker};
use std::sync::Arc;

/// The consumer group (and `worker` metric label) of the scrubber.
pub const WORKER_NAME: &str = "scrubber";

/// Scrubs captures with the configuration of their service.
#[derive(Debug)]
pub struct ScrubWorker {
    pub store: Arc<ConfigStore>,
}

fn content_type(headers: &[HeaderRecord]) -> Option<&str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-type"))
        .and_then(|h| std::str::from_utf8(&h.value).ok())
}

fn scrub_headers(c: &Compiled, headers: Vec<HeaderRecord>) -> Vec<HeaderRecord> {
    headers
        .into_iter()
        .map(|mut h| {
            if c.extra_headers
                .iter()
                .any(|x| x.eq_ignore_ascii_case(&h.name))
            {
                h.value = REDACTED.as_bytes().to_vec();
            } else if let Ok(v) = std::str::from_utf8(&h.value) {
                let scrubbed = c.scrubber.scrub_header_value(&h.name, v);
                if scrubbed != v {
                    h.value = scrubbed.into_owned().into_bytes();
                }
            }
            h
        })
        .collect()
}

/// The sealed, scrubbed form of a capture.
pub fn scrub_capture(c: &Compiled, cap: CaptureRecord) -> ScrubbedCaptureRecord {
    let (req_body, req_report) = c
        .scrubber
        .scrub_body_report(&cap.request_body, content_type(&cap.request_headers));
    let (resp_body, resp_report) = c
        .scrubber
        .scrub_body_report(&cap.response_body, content_type(&cap.response_headers));
    let mut report = req_report;
    report.merge(&resp_report);
    let findings = report
        .categories()
        .filter(|(_, n)| *n > 0)
        .map(|(cat, n)| FindingRecord {
            category: cat.name().to_owned(),
            count: i64::try_from(n).unwrap_or(i64::MAX),
        })
        .collect();
    ScrubbedCaptureRecord {
        uri: c.scrubber.scrub_url(&cap.uri).into_owned(),
        request_headers: scrub_headers(c, cap.request_headers),
        request_body: req_body.unwrap_or(cap.request_body),
        response_headers: scrub_headers(c, cap.response_headers),
        response_body: resp_body.unwrap_or(cap.response_body),
        id: cap.id,
        service: cap.service,
        session_id: cap.session_id,
        method: cap.method,
        status: cap.status,
        started_at_us: cap.started_at_us,
        duration_us: cap.duration_us,
        upstream: cap.upstream,
        http_version: cap.http_version,
        body_truncated: cap.body_truncated,
        scrubbed_at_us: ghost_model::clock::now_us().max(1),
        scrub_config_id: c.id.clone(),
        findings,
        upstream_http_version: cap.upstream_http_version,
        tenant: cap.tenant,
    }
}

#[async_trait::async_trait]
impl Worker for ScrubWorker {
    type Input = CaptureRecord;

    fn name(&self) -> &'static str {
        WORKER_NAME
    }

    fn input(&self) -> Topic<CaptureRecord> {
        topics::CAPTURES
    }

    async fn handle_batch(&self, batch: &[Input<CaptureRecord>]) -> Result<Handled, Transient> {
        let mut handled = Handled::default();
        for (index, input) in batch.iter().enumerate() {
            let compiled = self.store.for_service(&input.value.service);
            let scrubbed = scrub_capture(&compiled, input.value.clone());
            match topics::SCRUBBED.record(&scrubbed, Some(&input.hop)) {
                Ok(record) => handled.outputs.push(Output {
                    topic: topics::SCRUBBED.name(),
                    record,
                }),
                Err(e) => handled.rejected.push(Rejected {
                    index,
                    reason: e.to_string(),
                }),
            }
        }
        Ok(handled)
    }
}
