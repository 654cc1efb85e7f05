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

/// Whether a frame of `len` bytes laid out as `planes` is exactly GStreamer's
/// default layout for `info` (then it can be a buffer as it is).
fn agrees(planes: &Planes, len: usize, info: &gst_video::VideoInfo) -> bool {
    planes.len() == len
        && info.size() == len
        && planes.as_slice().iter().enumerate().all(|(i, plane)| {
            info.offset().get(i) == Some(&plane.offset)
                && info.stride().get(i).map(|&s| s as usize) == Some(plane.stride)
        })
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
    if agrees(&planes, frame.as_ref().len(), info) {
        return Ok(gst::Buffer::from_mut_slice(frame));
    }
    Ok(gst::Buffer::from_mut_slice(repack(
        &planes,
        frame.as_ref(),
        info,
    )?))
}

/// Wraps a frame held in place as a read-only buffer (`Ok((buffer, true))`):
/// as it is when its layout is GStreamer's default for `info`, else with a
/// `GstVideoMeta` giving its strides and plane offsets when downstream reads
/// one (`video_meta`). Otherwise its rows are repacked into a copy
/// (`Ok((buffer, false))`) and `frame` is dropped at once.
pub fn held_to_buffer<T>(
    meta: &FrameMeta,
    frame: T,
    info: &gst_video::VideoInfo,
    video_meta: bool,
) -> Result<(gst::Buffer, bool), CopyError>
where
    T: AsRef<[u8]> + Send + 'static,
{
    let planes = meta.planes()?;
    let len = frame.as_ref().len();
    if agrees(&planes, len, info) {
        return Ok((gst::Buffer::from_slice(frame), true));
    }
    if video_meta && planes.len() <= len {
        let mut buffer = gst::Buffer::from_slice(frame);
        if with_video_meta(&mut buffer, &planes, info).is_ok() {
            return Ok((buffer, true));
        }
        // GStreamer checks the frame against its own default size, which
        // rows packed tighter than its 4-byte alignment (odd widths) miss.
        let map = buffer
            .map_readable()
            .map_err(|e| CopyError::Buffer(e.to_string()))?;
        let repacked = repack(&planes, &map, info)?;
        return Ok((gst::Buffer::from_mut_slice(repacked), false));
    }
    let repacked = repack(&planes, frame.as_ref(), info)?;
    Ok((gst::Buffer::from_mut_slice(repacked), false))
}

/// Describes the frame in `buffer`, laid out as `planes`, by a `GstVideoMeta`.
fn with_video_meta(
    buffer: &mut gst::Buffer,
    planes: &Planes,
    info: &gst_video::VideoInfo,
) -> Result<(), CopyError> {
    let offsets: Vec<usize> = planes.as_slice().iter().map(|p| p.offset).collect();
    let strides = planes
        .as_slice()
        .iter()
        .map(|p| i32::try_from(p.stride))
        .collect::<Result<Vec<i32>, _>>()
        .map_err(|_| CopyError::Buffer("a stride beyond 2 GiB".into()))?;
    let buffer = buffer
        .get_mut()
        .ok_or_else(|| CopyError::Buffer("a new buffer is shared".into()))?;
    gst_video::VideoMeta::add_full(
        buffer,
        gst_video::VideoFrameFlags::empty(),
        info.format(),
        info.width(),
        info.height(),
        &offsets,
        &strides,
    )
    .map_err(|e| CopyError::Buffer(e.to_string()))?;
    Ok(())
}

/// The frame's rows, laid out as `info` says (GStreamer's default layout).
fn repack(
    planes: &Planes,
    pixels: &[u8],
    info: &gst_video::VideoInfo,
) -> Result<Vec<u8>, CopyError> {
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
    Ok(repacked)
}
