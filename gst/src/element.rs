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

/// Implements `ElementImpl` for `$element`: the project's metadata and one
/// always-present raw-video pad (`$pad`, `$direction`).
macro_rules! element_impl {
    ($element:ty, $long_name:expr, $classification:expr, $description:expr, $pad:expr, $direction:expr) => {
        impl ElementImpl for $element {
            fn metadata() -> Option<&'static gst::subclass::ElementMetadata> {
                static METADATA: std::sync::LazyLock<gst::subclass::ElementMetadata> =
                    std::sync::LazyLock::new(|| {
                        $crate::element::metadata($long_name, $classification, $description)
                    });
                Some(&*METADATA)
            }

            fn pad_templates() -> &'static [gst::PadTemplate] {
                static TEMPLATES: std::sync::LazyLock<Vec<gst::PadTemplate>> =
                    std::sync::LazyLock::new(|| {
                        $crate::element::video_pad_templates($pad, $direction)
                    });
                TEMPLATES.as_ref()
            }
        }
    };
}
pub(crate) use element_impl;

/// Registers element `name` of type `element_type` with the plugin.
pub fn register(
    plugin: &gst::Plugin,
    name: &str,
    element_type: glib::Type,
) -> Result<(), glib::BoolError> {
    gst::Element::register(Some(plugin), name, gst::Rank::NONE, element_type)
}
