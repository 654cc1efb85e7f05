//! What both elements declare alike: their metadata, their one raw-video pad
//! and their registration.

use crate::formats;
use gst::glib;

/// Element metadata with the project as author.
pub fn metadata(
    long_name: &str,
    classification: &str,
    description: &str,
) -> gst::subclass::ElementMetadata {
    gst::subclass::ElementMetadata::new(
        long_name,
        classification,
        description,
        "shmframe developers",
    )
}

/// The element's one always-present pad, `name`, carrying every format shmframe has.
pub fn video_pad_templates(name: &str, direction: gst::PadDirection) -> Vec<gst::PadTemplate> {
    let template = gst::PadTemplate::new(
        name,
        direction,
        gst::PadPresence::Always,
        &formats::template_caps(),
    );
    // The template is built from constants, so it cannot fail.
    vec![template.expect("a valid pad template")]
}

/// Registers element `name` of type `element_type` with the plugin.
pub fn register(
    plugin: &gst::Plugin,
    name: &str,
    element_type: glib::Type,
) -> Result<(), glib::BoolError> {
    gst::Element::register(Some(plugin), name, gst::Rank::NONE, element_type)
}
