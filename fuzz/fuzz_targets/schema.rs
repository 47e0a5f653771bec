//! Fuzz target `schema`: see `cardsync_tests::fuzz::Target::Schema`.
#![no_main]

use cardsync_tests::fuzz::Target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Target::Schema.run(data));
