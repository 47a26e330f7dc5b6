//! The `cspi` command line: parsing and printing only; all work is done by the library.
//! Exit codes: 0 done, 1 failed, 2 command-line mistake, 3 done but some input not read
//! (see `cli::Status`).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Output piped into `head` and closed early ends the program quietly, as for any Unix
    // tool, instead of a panic from println! on the closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default action of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(status) => ExitCode::from(status.code()),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}
