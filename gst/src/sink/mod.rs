//! `shmframesink`: publishes each video buffer as a frame of a shmframe stream.

use gst::glib;
use gst::prelude::*;

mod imp;

/// Who besides the owner may read the stream's segment.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstShmFrameSinkMode")]
pub enum Access {
    /// Only the owner (file mode 0600).
    #[enum_value(name = "0600: only the owner reads", nick = "600")]
    Owner = 600,
    /// The owner's group may read (0640).
    #[enum_value(name = "0640: the owner's group reads too", nick = "640")]
    Group = 640,
    /// Everyone may read (0644).
    #[enum_value(name = "0644: everyone reads", nick = "644")]
    Everyone = 644,
}

impl Access {
    /// The segment's file mode.
    pub fn file_mode(self) -> u32 {
        match self {
            Access::Owner => 0o600,
            Access::Group => 0o640,
            Access::Everyone => 0o644,
        }
    }
}

glib::wrapper! {
    /// The `shmframesink` element.
    pub struct ShmFrameSink(ObjectSubclass<imp::ShmFrameSink>)
        @extends gst_base::BaseSink, gst::Element, gst::Object;
}

/// Registers `shmframesink` with the plugin.
pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    crate::element::register(plugin, "shmframesink", ShmFrameSink::static_type())
}
