//! The firewall in front of yrs: everything between untrusted bytes and a document.

pub(crate) mod intake;
pub mod screen;
pub(crate) mod structure;

pub use intake::concat_updates_v1;
pub use screen::{
    MAX_CLOCK, MAX_DEPTH, ScreenError, screen_state_vector_v1, screen_update_v1, screen_update_v2,
};
