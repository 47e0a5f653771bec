//! Fuzz target `update_v2`: see `cardsync_tests::fuzz::Target::UpdateV2`.
#![no_main]

use cardsync_tests::fuzz::Target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Target::UpdateV2.run(data));
