//! GStreamer elements for shmframe streams: `shmframesink` publishes raw video
//! into a stream, `shmframesrc` produces a stream's frames in a pipeline.
//!
//! Load the plugin by pointing GStreamer at the directory that holds
//! `libgstshmframe.so`:
//!
//! ```text
//! GST_PLUGIN_PATH=target/release gst-launch-1.0 videotestsrc ! shmframesink stream=cam0
//! GST_PLUGIN_PATH=target/release gst-launch-1.0 shmframesrc stream=cam0 ! videoconvert ! autovideosink
//! ```

use gst::glib;

mod element;
mod formats;
mod planes;
mod sink;
mod source;
mod stream_name;

pub use sink::{Access, ShmFrameSink};
pub use source::{ReadMode, ShmFrameSrc, META_NAME, META_ZERO_COPY};

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    sink::register(plugin)?;
    source::register(plugin)?;
    Ok(())
}

gst::plugin_define!(
    shmframe,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    env!("CARGO_PKG_VERSION"),
    // GStreamer's name for the MIT licence (the crate is MIT OR Apache-2.0).
    "MIT/X11",
    env!("CARGO_PKG_NAME"),
    "shmframe",
    env!("CARGO_PKG_REPOSITORY")
);
