//! The compared libraries, one file each, all behind [`crate::adapter::Peer`].

pub mod automerge;
pub mod cardsync;
pub mod loro;
pub mod yrs;

pub use self::automerge::Am;
pub use self::cardsync::Cardsync;
pub use self::loro::Loro;
pub use self::yrs::Yrs;
