//! `shmframe._native.Reader`: the native half of `shmframe.Reader`.
//!
//! It copies frames out of the segment, with the GIL released, into a buffer
//! it owns, which the Python half (`shmframe/_reader.py`) shapes into a numpy
//! array of the frame's format, or straight into the caller's `out=`; or it
//! holds them in place (`copy=False`, see `held.rs`), copying only when no
//! hold is free.

use crate::errors::{self, IntoPyResult};
use crate::formats::color_names;
use crate::held::held_array;
use numpy::{PyArray1, PyReadwriteArray1};
use pyo3::prelude::*;
use shmframe::{FrameInfo, OwnedHeldFrame, ReaderOptions};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::Duration;

/// Longest single native wait: longer waits are made of several, so that
/// Ctrl-C and other threads using the reader get in between.
const MAX_WAIT: Duration = Duration::from_millis(100);

/// What Python learns about a frame: (number, timestamp_ns, missed, width,
/// height, stride, format, matrix, range, length, index, published_ns).
type Info = (
    u64,
    u64,
    u64,
    u32,
    u32,
    u32,
    &'static str,
    &'static str,
    &'static str,
    usize,
    u64,
    u64,
);

/// A read-only array over a frame held in place (see `held.rs`).
type HeldArray<'py> = Bound<'py, PyArray1<u8>>;

fn info_tuple(info: FrameInfo) -> Info {
    let meta = info.meta;
    let (matrix, range) = color_names(meta.color);
    (
        info.number,
        info.timestamp_ns,
        info.missed,
        meta.width,
        meta.height,
        meta.stride,
        meta.format.name(),
        matrix,
        range,
        info.len,
        info.index,
        info.published_ns,
    )
}

/// A read-only view of one stream (see shmframe.Reader).
#[pyclass(module = "shmframe._native")]
pub struct Reader {
    inner: Option<shmframe::Reader>,
    /// The last frame read; handed to numpy by `take`, reused by `copy_to`.
    buf: Vec<u8>,
    name: String,
}

#[pymethods]
impl Reader {
    #[new]
    #[pyo3(signature = (name, trusted_uids = Vec::new(), holds = ReaderOptions::default().holds))]
    fn new(py: Python<'_>, name: &str, trusted_uids: Vec<u32>, holds: usize) -> PyResult<Self> {
        let options = ReaderOptions {
            trusted_uids,
            holds,
            ..ReaderOptions::default()
        };
        let reader = py
            .detach(|| shmframe::Reader::open_with(name, &options))
            .py_result(py)?;
        Ok(Reader {
            inner: Some(reader),
            buf: Vec::new(),
            name: name.to_owned(),
        })
    }

    /// Reads the latest frame (`next=False`) or the next in order into the
    /// buffer. With `timeout=None`, only looks; otherwise waits up to
    /// `timeout` seconds (at most [`MAX_WAIT`]: the Python side waits longer
    /// in slices, so that signals and other threads get in between). Returns
    /// the frame's info or None.
    #[pyo3(signature = (next, timeout = None))]
    fn read(&mut self, py: Python<'_>, next: bool, timeout: Option<f64>) -> PyResult<Option<Info>> {
        let Reader { inner, buf, name } = self;
        let reader = inner.as_mut().ok_or_else(|| closed(py, name))?;
        let timeout = slice_of(py, timeout)?;
        let got = py.detach(|| match (timeout, next) {
            (None, false) => reader.latest(buf),
            (None, true) => reader.next(buf),
            (Some(t), false) => reader.wait_latest(buf, t),
            (Some(t), true) => reader.wait_next(buf, t),
        });
        Ok(got.py_result(py)?.map(info_tuple))
    }

    /// Reads like `read`, but copies the frame straight from the segment into
    /// the contiguous bytes `out` (one copy, GIL released) when it fits there.
    /// Returns None, or the info and whether the frame is in `out`; if it was
    /// too large for `out` it is read into the buffer instead, as `read` does
    /// (so an in-order reader moves past it either way).
    #[pyo3(signature = (next, timeout, out))]
    fn read_into(
        &mut self,
        py: Python<'_>,
        next: bool,
        timeout: Option<f64>,
        mut out: PyReadwriteArray1<'_, u8>,
    ) -> PyResult<Option<(Info, bool)>> {
        let timeout = slice_of(py, timeout)?;
        let out = out
            .as_slice_mut()
            .map_err(|_| errors::value_error(py, "out must be C-contiguous".to_owned()))?;
        let Reader { inner, buf, name } = self;
        let reader = inner.as_mut().ok_or_else(|| closed(py, name))?;
        let got = py.detach(|| {
            let into = match (timeout, next) {
                (None, false) => reader.latest_into(out),
                (None, true) => reader.next_into(out),
                (Some(t), false) => reader.wait_latest_into(out, t),
                (Some(t), true) => reader.wait_next_into(out, t),
            };
            match into {
                Ok(info) => Ok(info.map(|info| (info, true))),
                // Still there: read it as `read` would, for the caller to refuse.
                Err(shmframe::Error::BufferTooSmall { .. }) => {
                    let info = if next {
                        reader.next(buf)
                    } else {
                        reader.latest(buf)
                    };
                    info.map(|info| info.map(|info| (info, false)))
                }
                Err(e) => Err(e),
            }
        });
        Ok(got
            .py_result(py)?
            .map(|(info, copied)| (info_tuple(info), copied)))
    }

    /// Holds the latest frame (`next=False`) or the next in order in place,
    /// waiting as `read` does. Returns None, or the frame's info and a
    /// read-only uint8 array over its pixels in the segment; when no hold is
    /// free, the frame is copied into the buffer instead (as `read` does: the
    /// array is then None and `take` gives the copy).
    #[pyo3(signature = (next, timeout = None))]
    fn hold<'py>(
        &mut self,
        py: Python<'py>,
        next: bool,
        timeout: Option<f64>,
    ) -> PyResult<Option<(Info, Option<HeldArray<'py>>)>> {
        let Reader { inner, buf, name } = self;
        let reader = inner.as_mut().ok_or_else(|| closed(py, name))?;
        let timeout = slice_of(py, timeout)?;
        let got = py.detach(|| hold_or_copy(reader, buf, next, timeout));
        let Some((info, held)) = got.py_result(py)? else {
            return Ok(None);
        };
        let array = held.map(|frame| held_array(py, frame)).transpose()?;
        Ok(Some((info_tuple(info), array)))
    }

    /// Frames this reader holds in place now (views not yet collected).
    #[getter]
    fn holding(&self, py: Python<'_>) -> PyResult<usize> {
        let reader = self.inner.as_ref().ok_or_else(|| closed(py, &self.name))?;
        Ok(reader.holding())
    }

    /// Holds the writer has granted this reader so far.
    #[getter]
    fn holds_granted(&self, py: Python<'_>) -> PyResult<usize> {
        let reader = self.inner.as_ref().ok_or_else(|| closed(py, &self.name))?;
        Ok(reader.holds_granted())
    }

    /// Hands the last frame's bytes to numpy as a 1-D uint8 array, without a copy.
    fn take<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyArray1<u8>> {
        PyArray1::from_vec(py, std::mem::take(&mut self.buf))
    }

    /// Copies `rows` rows of `row_bytes` bytes, `stride` bytes apart in the
    /// last frame read, into the contiguous uint8 array `out`, packed.
    fn copy_to(
        &self,
        py: Python<'_>,
        mut out: PyReadwriteArray1<'_, u8>,
        rows: usize,
        row_bytes: usize,
        stride: usize,
    ) -> PyResult<()> {
        let out = out
            .as_slice_mut()
            .map_err(|_| errors::value_error(py, "out must be C-contiguous".to_owned()))?;
        let fits = rows >= 1
            && stride >= row_bytes
            && rows.checked_mul(row_bytes) == Some(out.len())
            && (rows - 1)
                .checked_mul(stride)
                .and_then(|n| n.checked_add(row_bytes))
                .is_some_and(|end| end <= self.buf.len());
        if !fits {
            return Err(errors::value_error(
                py,
                format!(
                    "cannot copy {rows} rows of {row_bytes} bytes {stride} apart from a frame of {} bytes into {} bytes",
                    self.buf.len(),
                    out.len()
                ),
            ));
        }
        let buf = &self.buf;
        py.detach(|| {
            if stride == row_bytes {
                out.copy_from_slice(&buf[..out.len()]);
            } else {
                for (row, dst) in out.chunks_exact_mut(row_bytes).enumerate() {
                    dst.copy_from_slice(&buf[row * stride..row * stride + row_bytes]);
                }
            }
        });
        Ok(())
    }

    /// Whether the writer is still running and publishing into this segment.
    #[getter]
    fn writer_alive(&self) -> bool {
        self.inner.as_ref().is_some_and(|r| r.writer_alive())
    }

    /// (writer_pid, alive, slots, slot_capacity, frames_published, created_ns).
    fn status(&self, py: Python<'_>) -> PyResult<(u32, bool, usize, usize, u64, u64)> {
        let reader = self.inner.as_ref().ok_or_else(|| closed(py, &self.name))?;
        let s = reader.status();
        Ok((
            s.writer_pid,
            s.alive,
            s.slots,
            s.slot_capacity,
            s.frames_published,
            s.created_ns,
        ))
    }

    /// The reader's readiness fd (the first call starts its helper thread); see Reader.fileno.
    fn fileno(&mut self, py: Python<'_>) -> PyResult<i32> {
        let reader = self.inner.as_mut().ok_or_else(|| closed(py, &self.name))?;
        Ok(reader.readiness_fd().py_result(py)?.as_raw_fd())
    }

    /// Clears the readiness fd until the next frame; see Reader.clear_readiness.
    fn clear_readiness(&self, py: Python<'_>) -> PyResult<()> {
        let reader = self.inner.as_ref().ok_or_else(|| closed(py, &self.name))?;
        reader.clear_readiness();
        Ok(())
    }

    /// Attaches to a new segment under the same name, if the writer moved; see Reader.follow.
    fn follow(&mut self, py: Python<'_>) -> PyResult<bool> {
        let reader = self.inner.as_mut().ok_or_else(|| closed(py, &self.name))?;
        py.detach(|| reader.follow()).py_result(py)
    }

    /// Unmaps the segment; further reads raise.
    fn close(&mut self) {
        self.inner = None;
        self.buf = Vec::new();
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_none()
    }

    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    #[getter]
    fn path(&self) -> Option<PathBuf> {
        self.inner.as_ref().map(|r| r.path().to_owned())
    }
}

/// Holds the latest or next frame (after waiting up to `timeout`, if given),
/// or copies it into `buf` when no hold is free: the frame a hold was refused
/// for is still there to copy (`hold_next` leaves it next).
fn hold_or_copy(
    reader: &mut shmframe::Reader,
    buf: &mut Vec<u8>,
    next: bool,
    timeout: Option<Duration>,
) -> shmframe::Result<Option<(FrameInfo, Option<OwnedHeldFrame>)>> {
    let held = match (timeout, next) {
        (None, false) => reader.hold_latest(),
        (None, true) => reader.hold_next(),
        (Some(t), false) => reader.wait_hold_latest(t),
        (Some(t), true) => reader.wait_hold_next(t),
    }
    // Owned at once, so that the reader is free again for a copy.
    .map(|held| held.map(|frame| (*frame.info(), frame.into_owned())));
    match held {
        Ok(held) => Ok(held.map(|(info, frame)| (info, Some(frame)))),
        Err(shmframe::Error::NoHoldFree) => {
            let copied = if next {
                reader.next(buf)
            } else {
                reader.latest(buf)
            };
            copied.map(|info| info.map(|info| (info, None)))
        }
        Err(e) => Err(e),
    }
}

/// One native wait's duration for `timeout` seconds (None: only look).
fn slice_of(py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Duration>> {
    match timeout {
        None => Ok(None),
        Some(t) if t >= 0.0 => Ok(Some(Duration::from_secs_f64(t.min(MAX_WAIT.as_secs_f64())))),
        Some(t) => Err(errors::value_error(
            py,
            format!("timeout must be a number of seconds >= 0 (or None), got {t}"),
        )),
    }
}

fn closed(py: Python<'_>, name: &str) -> PyErr {
    errors::value_error(py, format!("the reader of `{name}` is closed"))
}
