//! Placeholder: the connection state machine is being written.
