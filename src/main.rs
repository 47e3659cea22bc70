//! The `tagroute` binary: the command-line program lives in the library (`tagroute::cli`).

fn main() -> std::process::ExitCode {
    tagroute::cli::main()
}
