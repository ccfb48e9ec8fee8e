use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = basalt::cli::Cli::parse();
    match basalt::cli::execute(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
