//! The `indriva` binary: see `indriva --help`.

fn main() -> std::process::ExitCode {
    indriva::cli::main()
}
