//! The thread pool cspi's own parallel work runs on.
//!
//! polars optimises and executes plans recursively; on the unoptimised builds tests use, a deep
//! SQL view or a long indicator plan overflows the 2 MiB stacks of rayon's default threads, so
//! every parallel section (indicators, DfE rules, rule cases) runs on this pool instead.

use std::sync::OnceLock;

/// As many threads as cores, each with a 64 MiB stack.
pub fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(64 << 20)
            .thread_name(|i| format!("cspi-{i}"))
            .build()
            .expect("a thread pool")
    })
}
