//! Fuzz target `update_v1`: see `cardsync_tests::fuzz::Target::UpdateV1`.
#![no_main]

use cardsync_tests::fuzz::Target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| Target::UpdateV1.run(data));
