//! ghost's domain types and the pure rules every component shares.
//!
//! - [`Mode`] and [`ServiceName`]: what a service is doing and what it is called.
//! - [`Redactor`] and [`Capture`]: a recorded exchange can only be built by passing
//!   it through the redactor, so credential headers never reach a byte of storage.
//! - [`fingerprint`] and [`template`]: how requests are normalized and keyed for
//!   matching (no I/O; the proxy and the workers must agree on these exactly).

mod capture;
pub mod clock;
pub mod fingerprint;
mod mode;
mod redact;
mod service;
pub mod template;

pub use capture::{Capture, CaptureParts, HeaderPair};
pub use mode::{Mode, ModeParseError};
pub use redact::{REDACTED, REDACTION_FLOOR, Redactor, RedactorError};
pub use service::{ServiceName, ServiceNameError};
