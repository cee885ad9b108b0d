//! Shared by the corpus test and the throughput example: a deterministic,
//! labelled corpus of JSON bodies.
#![allow(dead_code)]

pub mod corpus;
pub mod encoders;
pub mod lookalikes;
pub mod pii_values;
pub mod rng;
