//! Fuzz target `room`: see `cardsync_tests::fuzz::Target::Room`.
#![no_main]

use cardsync_tests::fuzz::Target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Target::Room.run(data));
