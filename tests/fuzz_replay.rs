//! Replays every fuzz target's seeds and its regression corpus on stable, in `cargo test`.
//!
//! Each crash or divergence libFuzzer finds is kept as a named file under
//! `tests/fuzz-regressions/<target>/`; the `README.md` there says what each one caught. This
//! test runs them all through the same harness functions the fuzz targets call
//! (`cardsync_tests::fuzz`), so a fixed bug stays fixed without nightly or libFuzzer.

use std::path::{Path, PathBuf};

use cardsync_tests::fuzz::{Target, seeds};

fn regressions(target: Target) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-regressions");
    // The corpus root must exist (it holds the README), or a moved folder would make this
    // test pass without replaying anything; a target without findings has no folder yet.
    assert!(
        root.join("README.md").is_file(),
        "{} is missing",
        root.display()
    );
    let dir = root.join(target.name());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable regression folder").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_passes_its_seeds() {
    for target in Target::ALL {
        let seeds = seeds(target);
        assert!(!seeds.is_empty(), "{target} has no seeds");
        for seed in seeds {
            target.run(&seed);
        }
    }
}

#[test]
fn every_regression_input_passes() {
    for target in Target::ALL {
        for file in regressions(target) {
            let data = std::fs::read(&file).expect("a readable regression file");
            let outcome = std::panic::catch_unwind(|| target.run(&data));
            assert!(outcome.is_ok(), "{target}: {} fails again", file.display());
        }
    }
}

#[test]
fn target_names_round_trip() {
    for target in Target::ALL {
        assert_eq!(target.name().parse::<Target>().ok(), Some(target));
    }
    assert!("nope".parse::<Target>().is_err());
}

/// The session seeds must reach what the target is about: acks, rejections, crashes. (A
/// schedule decoder that never rejected anything would pass trivially.)
#[test]
fn session_seeds_exercise_acks_rejections_and_crashes() {
    let (mut acks, mut rejections, mut crashes) = (0, 0, 0);
    for seed in seeds(Target::Session) {
        let net = cardsync_tests::fuzz::simulate_session(&seed);
        acks += net.track.acks();
        rejections += net.track.rejections.values().sum::<usize>();
        crashes += net.stats.crashes;
    }
    assert!(
        acks > 0 && rejections > 0 && crashes > 0,
        "acks {acks}, rejections {rejections}, crashes {crashes}"
    );
}
