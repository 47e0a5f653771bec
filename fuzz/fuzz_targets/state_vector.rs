//! Fuzz target `state_vector`: see `cardsync_tests::fuzz::Target::StateVector`.
#![no_main]

use cardsync_tests::fuzz::Target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Target::StateVector.run(data));
