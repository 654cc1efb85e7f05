//! Saying on each buffer whether it is the held frame itself or a copy.
//!
//! Every buffer `shmframesrc` pushes carries a `GstCustomMeta` named
//! [`NAME`] whose structure has one field, `zero-copy` (boolean): `true` when
//! the buffer's memory is the frame held in place in the segment, `false`
//! when it is a copy (zero-copy off, no hold free, or rows repacked).

/// The custom meta's name (and its structure's).
pub const NAME: &str = "GstShmFrameMeta";

/// The field saying whether the buffer is the held frame.
pub const ZERO_COPY: &str = "zero-copy";

/// Registers the meta once per process.
pub fn register() {
    if !gst::meta::CustomMeta::is_registered(NAME) {
        gst::meta::CustomMeta::register(NAME, &[]);
    }
}

/// Marks `buffer` as the held frame (`zero_copy`) or a copy.
pub fn mark(buffer: &mut gst::BufferRef, zero_copy: bool) -> Result<(), gst::glib::BoolError> {
    let mut meta = gst::meta::CustomMeta::add(buffer, NAME)?;
    meta.mut_structure().set(ZERO_COPY, zero_copy);
    Ok(())
}
