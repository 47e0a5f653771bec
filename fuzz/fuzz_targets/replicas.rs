//! Fuzz target `replicas`: see `cardsync_tests::fuzz::Target::Replicas`.
#![no_main]

use cardsync_tests::fuzz::Target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Target::Replicas.run(data));
