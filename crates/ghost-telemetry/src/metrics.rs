//! The process-wide Prometheus recorder every component reports into, and the
//! one rendering of it that the proxy's `/_ghost/metrics` and a worker host's
//! `/metrics` both serve.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::{Mutex, OnceLock};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
/// Metrics kept outside the recorder (the proxy's lock-free request
/// histogram), rendered after it.
static SECTIONS: Mutex<Vec<fn(&mut String)>> = Mutex::new(Vec::new());

/// Installs the recorder once; later calls reuse it. Returns false when
/// another recorder was installed first (then nothing is recorded here).
///
/// Only counters and gauges go through it (histograms live in sections), so
/// it holds nothing that grows between scrapes and needs no upkeep thread.
pub fn install() -> bool {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .is_some()
}

/// Adds a section rendered after the recorder's metrics (once per function).
pub fn add_section(render: fn(&mut String)) {
    let mut sections = SECTIONS.lock().unwrap_or_else(|p| p.into_inner());
    if !sections.iter().any(|f| std::ptr::fn_addr_eq(*f, render)) {
        sections.push(render);
    }
}

/// Every metric in the Prometheus text format.
pub fn render() -> String {
    let mut out = match HANDLE.get() {
        Some(Some(handle)) => handle.render(),
        _ => String::new(),
    };
    let sections = SECTIONS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for render in sections {
        render(&mut out);
    }
    out
}
