use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    sockstack::cli::run(sockstack::cli::Cli::parse())
}
