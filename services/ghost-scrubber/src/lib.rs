//! ghost-scrubber: the worker that scrubs every capture with the engine of
//! `ghost-scrub` (ghost.captures.v1 → ghost.scrubbed.v1, sealed).
//!
//! [`handler`] turns a capture into a sealed scrubbed capture, [`config_store`]
//! holds the rule sets followed from `ghost.config.v1`, and [`worker`] runs it
//! on the worker platform. The seal rule every downstream store applies lives
//! with the scrubbed record's contract (`ghost_schema::seal`).

pub mod config_store;
pub mod handler;
pub mod worker;
