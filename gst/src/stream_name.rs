//! The `stream` property both elements share: its spec and its check at start.

use gst::glib;
use gst::prelude::*;

/// The `stream` property, as both elements declare it.
pub fn param_spec(role: &str) -> glib::ParamSpec {
    glib::ParamSpecString::builder("stream")
        .nick("Stream name")
        .blurb(&format!(
            "Name of the shmframe stream to {role} (required): 1 to 200 bytes of \
             [A-Za-z0-9._-], not . or ..; the segment is /dev/shm/shmframe.NAME, \
             or NAME under $SHMFRAME_DIR"
        ))
        .mutable_ready()
        .build()
}

/// The stream name to use, or the error to post when it is missing or invalid.
pub fn checked(name: Option<&str>) -> Result<String, gst::ErrorMessage> {
    let name = name.ok_or_else(|| {
        gst::error_msg!(
            gst::ResourceError::Settings,
            ["no stream name: set the `stream` property (stream=NAME)"]
        )
    })?;
    shmframe::validate_name(name)
        .map_err(|e| gst::error_msg!(gst::ResourceError::Settings, ["{}", e]))?;
    Ok(name.to_owned())
}
