//! Fuzz target `protocol`: see `cardsync_tests::fuzz::Target::Protocol`.
#![no_main]

use cardsync_tests::fuzz::Target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Target::Protocol.run(data));
