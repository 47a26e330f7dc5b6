//! cspi — performance indicators for children's services in England.
//!
//! The library is the pipeline; the `cspi` binary is only its command line. Data flows one way
//! and each layer may use only the layers before it:
//!
//! ```text
//! domain (shared vocabulary: dates, working days, code lists, LA identity)
//! ingest  → derive → indicators → compare → render
//! synth (writes returns in the statutory formats, for demos, tests and benchmarks)
//! ```
//!
//! `pipeline` (`cspi run`), `validate` (`cspi validate`) and `calibration` (`cspi synth
//! --report`) sit above the layers and only wire them together.
//!
//! `fuzz` holds every reader of outside input as a plain `fn(&[u8])`, for the fuzzers and
//! their regression tests.

pub mod calibration;
pub mod compare;
pub mod derive;
pub mod domain;
pub mod fuzz;
pub mod indicators;
pub mod ingest;
pub mod pipeline;
pub mod render;
pub mod synth;
pub mod validate;
