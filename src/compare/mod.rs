//! Benchmarking: an LA's figures against its statistical neighbours, its region and England,
//! from DfE's published figures or from the engine's own figures for several LAs (see
//! ../shared/domain/benchmarks.md).
//!
//! - [`benchmarks`]: benchmark values per area from either source, in one shape;
//! - [`disclosure`]: suppression of small numbers and of the figures that would reveal them;
//! - [`stats`]: funnel limits, intervals, ranks, quartile bands, RAG and trends;
//! - [`table`]: the comparison table (one row per LA × indicator × period);
//! - [`context`]: the inspection report's context section drafted from the data.

pub mod benchmarks;
pub mod context;
pub mod disclosure;
pub mod stats;
pub mod table;

pub use benchmarks::{Benchmarks, Source};
pub use table::{CompareOptions, compare};
