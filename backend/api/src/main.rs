//! The `shifting` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = shifting_api::cli::Cli::parse();
    shifting_api::cli::run(cli)
}
