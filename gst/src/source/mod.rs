//! `shmframesrc`: a live source producing the frames of a shmframe stream.

use gst::glib;
use gst::prelude::*;

mod clock;
mod held;
mod imp;
mod origin;
mod recycle;

pub use origin::{NAME as META_NAME, ZERO_COPY as META_ZERO_COPY};

/// Which frames the source produces.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, Default, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstShmFrameSrcMode")]
pub enum ReadMode {
    /// Each time, the newest frame; frames published in between are skipped.
    #[default]
    #[enum_value(
        name = "Latest: the newest frame each time, skipping older ones",
        nick = "latest"
    )]
    Latest = 0,
    /// Every frame in order, as long as the ring holds it; a QoS message counts the ones missed.
    #[enum_value(
        name = "Every: every frame in order; frames the writer overwrote first are counted in a QoS message",
        nick = "every"
    )]
    Every = 1,
}

glib::wrapper! {
    /// The `shmframesrc` element.
    pub struct ShmFrameSrc(ObjectSubclass<imp::ShmFrameSrc>)
        @extends gst_base::PushSrc, gst_base::BaseSrc, gst::Element, gst::Object;
}

/// Registers `shmframesrc` with the plugin.
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    crate::element::register(plugin, "shmframesrc", ShmFrameSrc::static_type())
}
