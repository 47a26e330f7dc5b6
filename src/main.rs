//! The `cspi` command line: parsing and printing only; all work is done by the library.
//! Exit codes: 0 done, 1 failed, 2 command-line mistake, 3 done but some input not read
//! (see `cli::Status`).

mod cli;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::prelude::*;

fn main() -> ExitCode {
    // Output piped into `head` and closed early ends the program quietly, as for any Unix
    // tool, instead of a panic from println! on the closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default action of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = cli::Cli::parse();
    timing_from_env();
    match cli::run(args) {
        Ok(status) => ExitCode::from(status.code()),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// `CSPI_LOG=info` shows where the time goes (a tuning aid): every fact table, indicator and
/// pass of the DfE rules is a `tracing` span, and the line written when it closes gives its
/// time (`time.busy`); `CSPI_LOG=debug` adds each rule view. The value is a list of
/// `target=level` directives (`cspi::derive=info,warn`). Written to stderr, never stdout;
/// without the variable nothing is installed and nothing is written.
fn timing_from_env() {
    let Some(directives) = std::env::var_os("CSPI_LOG") else {
        return;
    };
    let directives = directives.to_string_lossy();
    let filter: Targets = match directives.parse() {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!(
                "warning: CSPI_LOG={directives} is not a list of levels ({e}): no timing shown"
            );
            return;
        }
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_span_events(FmtSpan::CLOSE);
    tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .init();
}
