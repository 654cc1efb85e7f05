//! The native part of the `shmframe` Python package (imported as `shmframe._native`).
//!
//! A thin client of the engine's public API: the writer, a reader that copies
//! frames into buffers numpy can own or holds them in place as read-only
//! arrays, and the stream listing. The numpy-facing
//! API (frames, `out=`, iteration, asyncio) is in the pure-Python package.

#![deny(unsafe_op_in_unsafe_fn)]

mod array;
mod errors;
mod formats;
mod held;
mod reader;
mod writer;

use errors::IntoPyResult;
use pyo3::prelude::*;

/// Names of the streams in the segment directory ($SHMFRAME_DIR or /dev/shm).
#[pyfunction]
fn list_streams(py: Python<'_>) -> PyResult<Vec<String>> {
    shmframe::list_streams().py_result(py)
}

/// CLOCK_MONOTONIC in nanoseconds: the clock of Frame.timestamp_ns (the same
/// as time.monotonic_ns() on Linux).
#[pyfunction]
fn monotonic_ns() -> u64 {
    shmframe::monotonic_ns()
}

/// The names of every pixel format the engine knows, in code order.
#[pyfunction(name = "formats")]
fn format_names() -> Vec<&'static str> {
    shmframe::PixelFormat::ALL
        .iter()
        .map(|f| f.name())
        .collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<writer::Writer>()?;
    m.add_class::<reader::Reader>()?;
    m.add_class::<held::HeldPixels>()?;
    m.add_function(wrap_pyfunction!(list_streams, m)?)?;
    m.add_function(wrap_pyfunction!(monotonic_ns, m)?)?;
    m.add_function(wrap_pyfunction!(format_names, m)?)?;
    m.add("DEFAULT_CAPACITY", shmframe::DEFAULT_SLOT_CAPACITY)?;
    Ok(())
}
