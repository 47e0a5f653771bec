//! Writes every fuzz target's seed corpus: `fuzz_seeds <dir>` fills `<dir>/<target>/` with the
//! seeds of `cardsync_tests::fuzz::seeds`. `cargo xtask fuzz` runs it before libFuzzer, so the
//! corpus always starts from real updates of the current code, and nothing binary is committed
//! except the regression files.

use std::path::PathBuf;
use std::process::ExitCode;

use cardsync_tests::fuzz::{Target, seeds};

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: fuzz_seeds <corpus dir>");
        return ExitCode::FAILURE;
    };
    for target in Target::ALL {
        let target_dir = dir.join(target.name());
        let written = std::fs::create_dir_all(&target_dir).and_then(|()| {
            seeds(target).iter().enumerate().try_for_each(|(n, seed)| {
                std::fs::write(target_dir.join(format!("seed-{n:03}")), seed)
            })
        });
        if let Err(error) = written {
            eprintln!("fuzz_seeds: cannot write {}: {error}", target_dir.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
