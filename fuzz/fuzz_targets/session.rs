//! Fuzz target `session`: see `cardsync_tests::fuzz::Target::Session`.
#![no_main]

use cardsync_tests::fuzz::Target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Target::Session.run(data));
