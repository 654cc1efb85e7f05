//! `shmframe.Writer`: creates a stream and publishes numpy arrays into it.

use crate::array::{element_of, image_rows, with_bytes, Rows};
use crate::errors::{self, IntoPyResult};
use crate::formats::{
    infer_format, known_formats, packed_shape, parse_color, parse_format, Element,
};
use numpy::{PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyType;
use shmframe::{FrameMeta, FrameOrigin, PixelFormat, SlotFill, WriterOptions};
use std::path::PathBuf;

/// The one writer of a stream: creates it and publishes numpy arrays into it.
///
/// `slots` is the ring size (at least 2; more lets in-order readers fall
/// further behind), `capacity` the largest frame in bytes (default one
/// 1920x1080 RGBA frame), `mode` the file
/// mode (0o600, 0o640 or 0o644: others may only read), `holds` the frames
/// readers may use in place at once (default 4; 0: readers always copy; the
/// ring gets at least holds + 2 slots). Raises
/// WriterExistsError (naming the pid) if another live process writes `name`.
/// Use it as a context manager, or call close(): closing removes the name,
/// and readers' iteration ends.
#[pyclass(module = "shmframe")]
pub struct Writer {
    inner: Option<shmframe::Writer>,
    name: String,
}

#[pymethods]
impl Writer {
    #[new]
    #[pyo3(
        signature = (name, slots = 2, capacity = shmframe::DEFAULT_SLOT_CAPACITY, mode = 0o600, holds = shmframe::DEFAULT_HOLDS),
        text_signature = "(name, slots=2, capacity=8294400, mode=0o600, holds=4)"
    )]
    fn new(
        py: Python<'_>,
        name: &str,
        slots: usize,
        capacity: usize,
        mode: u32,
        holds: usize,
    ) -> PyResult<Self> {
        let options = WriterOptions {
            slots,
            slot_capacity: capacity,
            mode,
            holds,
        };
        let writer = py
            .detach(|| shmframe::Writer::create(name, &options))
            .py_result(py)?;
        Ok(Writer {
            inner: Some(writer),
            name: name.to_owned(),
        })
    }

    /// Publishes `frame` as the next frame and returns its frame number.
    ///
    /// Packed formats take an image array; without `format` it is inferred:
    ///   uint8 HxW -> "gray8", uint8 HxWx3 -> "rgb8", uint8 HxWx4 -> "rgba8",
    ///   uint16 HxW -> "gray16", float32 HxW -> "grayf32".
    /// format="bgr" / "bgra" publishes OpenCV's channel order (bgr8, bgra8).
    /// Rows may be padded (a slice of a wider array): they are published with
    /// their stride, straight from the array, with no temporary copy.
    ///
    /// YUV formats ("nv12", "i420", "yuyv") take the frame's bytes as one
    /// C-contiguous uint8 array of any shape (1-D, or 2-D as OpenCV's
    /// cvtColor gives), in ffmpeg's layout, plus `width` and `height`; `stride`
    /// is the luma row pitch in bytes (default: packed), and `matrix`
    /// ("bt601", "bt709") and `range` ("limited", "full") its colorimetry.
    ///
    /// `number` and `timestamp_ns`, given together, are the frame's own (a
    /// camera's frame counter and capture time, or those of the frame a
    /// processing stage read): readers see them as Frame.number and
    /// Frame.timestamp_ns, and the publish time as Frame.published_ns. By
    /// default a frame's number is its index and its timestamp the publish time.
    ///
    /// Raises TypeError for a wrong dtype or a non-array, ValueError for a
    /// wrong shape, non-contiguous rows, a frame larger than the slots, only
    /// one of number and timestamp_ns, or a closed writer (all also
    /// shmframe.Error). The GIL is released while the pixels are copied.
    /// Returns the frame's index in the stream.
    #[pyo3(signature = (frame, format = None, *, width = None, height = None, stride = None, matrix = None, range = None, number = None, timestamp_ns = None))]
    #[allow(clippy::too_many_arguments)]
    fn publish(
        &mut self,
        py: Python<'_>,
        frame: &Bound<'_, PyAny>,
        format: Option<&str>,
        width: Option<u32>,
        height: Option<u32>,
        stride: Option<u32>,
        matrix: Option<&str>,
        range: Option<&str>,
        number: Option<u64>,
        timestamp_ns: Option<u64>,
    ) -> PyResult<u64> {
        let writer = self.inner.as_mut().ok_or_else(|| closed(py, &self.name))?;
        let origin = match (number, timestamp_ns) {
            (None, None) => None,
            (Some(number), Some(timestamp_ns)) => Some(FrameOrigin {
                number,
                timestamp_ns,
            }),
            _ => {
                return Err(errors::value_error(
                    py,
                    "number and timestamp_ns go together: give both or neither".to_string(),
                ))
            }
        };
        let Ok(array) = frame.cast::<PyUntypedArray>() else {
            return Err(errors::type_error(
                py,
                format!("expected a numpy.ndarray, got {}", frame.get_type().name()?),
            ));
        };
        let Some(element) = element_of(array) else {
            return Err(errors::type_error(
                py,
                format!(
                    "expected a uint8, uint16 or float32 array (native byte order), got dtype {}",
                    array.dtype()
                ),
            ));
        };
        let format = match format {
            Some(name) => parse_format(name).ok_or_else(|| {
                errors::value_error(
                    py,
                    format!("unknown format `{name}`; known: {}", known_formats()),
                )
            })?,
            None => infer(py, array, element)?,
        };
        let color = parse_color(matrix, range).map_err(|m| errors::value_error(py, m))?;
        let size = SizeArgs {
            width,
            height,
            stride,
        };
        let (meta, rows) = if format.is_yuv() {
            yuv_layout(py, array, element, format, size)?
        } else {
            packed_layout(py, array, element, format, size)?
        };
        let meta = meta.with_color(color);
        with_bytes(array, element, rows.span(), |bytes| {
            py.detach(|| {
                let fill = |fill: &mut SlotFill<'_>| fill.write(0, bytes);
                match origin {
                    Some(origin) => writer.publish_with_from(origin, &meta, fill),
                    None => writer.publish_with(&meta, fill),
                }
            })
        })?
        .py_result(py)
    }

    /// Closes the stream: readers see the writer gone and the name is removed.
    /// Further publish() calls raise. Closing twice does nothing.
    fn close(&mut self) {
        self.inner = None;
    }

    /// Whether close() was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_none()
    }

    /// The stream name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The segment file's path (None once closed).
    #[getter]
    fn path(&self) -> Option<PathBuf> {
        self.inner.as_ref().map(|w| w.path().to_owned())
    }

    /// Frames published so far (the last frame number).
    #[getter]
    fn frames_published(&self) -> u64 {
        self.inner.as_ref().map_or(0, |w| w.frames_published())
    }

    /// Largest frame, in bytes, a slot holds.
    #[getter]
    fn capacity(&self) -> usize {
        self.inner.as_ref().map_or(0, |w| w.slot_capacity())
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (_exc_type = None, _exc = None, _tb = None))]
    fn __exit__(
        &mut self,
        _exc_type: Option<&Bound<'_, PyType>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.close();
        false
    }

    fn __repr__(&self) -> String {
        match &self.inner {
            Some(w) => format!(
                "<shmframe.Writer {:?}, {} frames published>",
                self.name,
                w.frames_published()
            ),
            None => format!("<shmframe.Writer {:?}, closed>", self.name),
        }
    }
}

fn closed(py: Python<'_>, name: &str) -> PyErr {
    errors::value_error(py, format!("the writer of `{name}` is closed"))
}

/// The format of an image array when the caller named none.
fn infer(
    py: Python<'_>,
    array: &Bound<'_, PyUntypedArray>,
    element: Element,
) -> PyResult<PixelFormat> {
    let shape = array.shape();
    let channels = match shape.len() {
        2 => 1,
        3 => shape[2],
        _ => 0,
    };
    infer_format(element, channels).ok_or_else(|| {
        let message = format!(
            "cannot tell the format of a {} array of shape {shape:?}: publish uint8 HxW (gray8), \
             HxWx3 (rgb8; format=\"bgr\" for OpenCV), HxWx4 (rgba8; format=\"bgra\"), uint16 HxW \
             (gray16) or float32 HxW (grayf32), or name a YUV format with width= and height=",
            element.numpy_name()
        );
        errors::value_error(py, message)
    })
}

/// The size keywords of `publish`: required for YUV buffers, checked against image arrays.
#[derive(Clone, Copy)]
struct SizeArgs {
    width: Option<u32>,
    height: Option<u32>,
    stride: Option<u32>,
}

/// Metadata and rows for an image array of a packed format.
fn packed_layout(
    py: Python<'_>,
    array: &Bound<'_, PyUntypedArray>,
    element: Element,
    format: PixelFormat,
    size: SizeArgs,
) -> PyResult<(FrameMeta, Rows)> {
    let (expected, channels) = packed_shape(format);
    if element != expected {
        return Err(errors::type_error(
            py,
            format!(
                "format {format} needs a {} array, got {}",
                expected.numpy_name(),
                element.numpy_name()
            ),
        ));
    }
    let rows = image_rows(array, element, channels).map_err(|m| errors::value_error(py, m))?;
    let too_big = |what: &str, n: usize| {
        errors::value_error(py, format!("{what} {n} is too large for a frame"))
    };
    let w = u32::try_from(rows.width).map_err(|_| too_big("width", rows.width))?;
    let h = u32::try_from(rows.height).map_err(|_| too_big("height", rows.height))?;
    let s = u32::try_from(rows.stride).map_err(|_| too_big("row stride", rows.stride))?;
    for (what, given, actual) in [
        ("width", size.width, w),
        ("height", size.height, h),
        ("stride", size.stride, s),
    ] {
        if given.is_some_and(|g| g != actual) {
            return Err(errors::value_error(
                py,
                format!(
                    "{what}={} does not match the array ({what} {actual}); for {format} frames the array's shape and strides say it",
                    given.unwrap_or_default()
                ),
            ));
        }
    }
    Ok((FrameMeta::packed(w, h, format).with_stride(s), rows))
}

/// Metadata and bytes for a YUV frame given as one contiguous uint8 buffer.
fn yuv_layout(
    py: Python<'_>,
    array: &Bound<'_, PyUntypedArray>,
    element: Element,
    format: PixelFormat,
    size: SizeArgs,
) -> PyResult<(FrameMeta, Rows)> {
    if element != Element::U8 {
        return Err(errors::type_error(
            py,
            format!(
                "format {format} needs a uint8 buffer of the frame's bytes, got {}",
                element.numpy_name()
            ),
        ));
    }
    let (Some(width), Some(height)) = (size.width, size.height) else {
        return Err(errors::type_error(
            py,
            format!(
                "format {format} needs width= and height= (the buffer's shape does not say them)"
            ),
        ));
    };
    if !array.is_c_contiguous() {
        return Err(errors::value_error(
            py,
            format!("a {format} frame must be one C-contiguous buffer; pass numpy.ascontiguousarray(frame)"),
        ));
    }
    let mut meta = FrameMeta::packed(width, height, format);
    if let Some(stride) = size.stride {
        meta = meta.with_stride(stride);
    }
    let expected = meta.checked_len().py_result(py)?;
    let got = array.len();
    if got != expected {
        return Err(errors::value_error(
            py,
            format!(
                "a {width}x{height} {format} frame with luma stride {} is {expected} bytes, got a buffer of {got}",
                meta.stride
            ),
        ));
    }
    let rows = Rows {
        width: got,
        height: 1,
        stride: got,
        row_bytes: got,
    };
    Ok((meta, rows))
}
