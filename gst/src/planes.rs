//! Moving pixels between GStreamer's plane layout (any strides and offsets,
//! from a `GstVideoMeta` or the caps' defaults) and shmframe's (planes packed
//! one after another, `docs/layout.md`).

use gst_video::prelude::*;
use shmframe::{FrameMeta, Planes, SlotFill};

/// Why a frame could not be copied.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The engine refused the frame or a write into the slot.
    #[error(transparent)]
    Engine(#[from] shmframe::Error),
    /// The GStreamer buffer does not hold what its caps and meta promise.
    #[error("{0}")]
    Buffer(String),
}

/// Copies each plane of a mapped GStreamer frame into a shmframe slot, row by
/// row where the strides differ, in one piece where they agree.
pub fn fill_slot(
    frame: &gst_video::VideoFrameRef<&gst::BufferRef>,
    planes: &Planes,
    fill: &mut SlotFill<'_>,
) -> Result<(), CopyError> {
    if frame.n_planes() as usize != planes.as_slice().len() {
        return Err(CopyError::Buffer(format!(
            "the buffer has {} planes, the format needs {}",
            frame.n_planes(),
            planes.as_slice().len()
        )));
    }
    for (index, plane) in planes.as_slice().iter().enumerate() {
        let data = frame
            .plane_data(index as u32)
            .map_err(|e| CopyError::Buffer(format!("plane {index}: {e}")))?;
        let stride = usize::try_from(frame.plane_stride()[index]).map_err(|_| {
            CopyError::Buffer(format!(
                "plane {index} has a negative stride (bottom-up rows)"
            ))
        })?;
        let short = || {
            CopyError::Buffer(format!(
                "plane {index} holds {} bytes, too few for {} rows of {} bytes {stride} apart",
                data.len(),
                plane.rows,
                plane.row_bytes
            ))
        };
        if stride == plane.stride {
            let whole = data.get(..plane.stride * plane.rows).ok_or_else(short)?;
            fill.write(plane.offset, whole)?;
            continue;
        }
        for row in 0..plane.rows {
            let start = row * stride;
            let bytes = data.get(start..start + plane.row_bytes).ok_or_else(short)?;
            fill.write(plane.offset + row * plane.stride, bytes)?;
        }
    }
    Ok(())
}

/// Wraps a frame read from a stream as a GStreamer buffer laid out as `info`
/// says, without a copy when the layouts already agree.
pub fn to_buffer<T>(
    meta: &FrameMeta,
    frame: T,
    info: &gst_video::VideoInfo,
) -> Result<gst::Buffer, CopyError>
where
    T: AsRef<[u8]> + AsMut<[u8]> + Send + 'static,
{
    let planes = meta.planes()?;
    let pixels = frame.as_ref();
    let agrees = planes.len() == pixels.len()
        && info.size() == pixels.len()
        && planes.as_slice().iter().enumerate().all(|(i, plane)| {
            info.offset().get(i) == Some(&plane.offset)
                && info.stride().get(i).map(|&s| s as usize) == Some(plane.stride)
        });
    if agrees {
        return Ok(gst::Buffer::from_mut_slice(frame));
    }
    let mut repacked = vec![0u8; info.size()];
    for (index, plane) in planes.as_slice().iter().enumerate() {
        let (Some(&offset), Some(&stride)) = (info.offset().get(index), info.stride().get(index))
        else {
            return Err(CopyError::Buffer(format!(
                "GStreamer's layout has no plane {index}"
            )));
        };
        let stride = stride as usize;
        for row in 0..plane.rows {
            let from = plane.offset + row * plane.stride;
            let to = offset + row * stride;
            let source = pixels.get(from..from + plane.row_bytes);
            let target = repacked.get_mut(to..to + plane.row_bytes);
            match (source, target) {
                (Some(source), Some(target)) => target.copy_from_slice(source),
                _ => {
                    return Err(CopyError::Buffer(format!(
                        "row {row} of plane {index} lies outside the frame"
                    )))
                }
            }
        }
    }
    Ok(gst::Buffer::from_mut_slice(repacked))
}
