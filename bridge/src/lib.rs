//! shmframe-bridge: a shmframe stream exported from one host and imported on
//! another, through Zenoh.
//!
//! The exporter reads the local stream (latest frames, or every frame with
//! `--every`), encodes each frame ([`codec`]) behind a small versioned header
//! ([`wire`]) and puts it on a Zenoh key; the importer checks every message as
//! untrusted input ([`decode_message`]) and republishes the frame into a local
//! stream that every shmframe tool reads unchanged. `docs/bridge.md` describes
//! the wire format byte by byte.
//!
//! Without the `net` feature the crate is the wire format and the codecs only
//! (what the fuzz target builds).

#![deny(unsafe_op_in_unsafe_fn)]

pub mod codec;
mod error;
mod message;
pub mod pattern;
pub mod wire;

#[cfg(feature = "net")]
pub mod net;

pub use codec::Codec;
pub use error::{Error, Result};
pub use message::{decode_frame, decode_message, Outgoing, Received, Stamp};
pub use wire::{CodecId, Limits, WireHeader};
