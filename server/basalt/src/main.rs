use clap::Parser;

/// mimalloc instead of the system allocator: a request allocates many small, short-lived
/// buffers across threads, where it measured 5-17% less server CPU per request than
/// glibc's malloc (bench/, same run, interleaved rounds). Built without transparent huge
/// pages (`no_thp`): with them, peak RSS in bench/ was 285 MB instead of 160-167 MB
/// (glibc: 82 MB; PocketBase: 208-228 MB). Version 2 (`v2`): version 3 keeps freed pages
/// for a second before giving them back, and peaked at 178 MB in bench/'s phases where
/// version 2 (10 ms) peaked at 151-157 MB, at the same throughput.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
