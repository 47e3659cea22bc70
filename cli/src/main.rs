//! The `tagroute` binary: one call to the command line (`tagroute_cli::main`).

fn main() -> std::process::ExitCode {
    tagroute_cli::main()
}
