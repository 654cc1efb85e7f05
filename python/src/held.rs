//! Frames held in place, as read-only numpy arrays into the segment.
//!
//! A [`HeldPixels`] owns one [`OwnedHeldFrame`]: while it lives, the writer
//! leaves the frame's slot alone and the mapping stays (even after the
//! reader closed). It is the `base` of the numpy array [`held_array`] makes,
//! so numpy keeps it alive as long as that array, or any view of it, lives;
//! the hold ends when the last of them is garbage-collected. It has no
//! method that ends the hold early: an array could still point at the slot.
//! Only the process that took the hold ends it (not a forked child).

use numpy::ndarray::ArrayView1;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::prelude::*;
use shmframe::OwnedHeldFrame;
use std::mem::ManuallyDrop;

/// The hold behind a zero-copy frame's array (its `base`); ends when collected.
#[pyclass(module = "shmframe._native", frozen)]
pub struct HeldPixels {
    frame: ManuallyDrop<OwnedHeldFrame>,
    /// The process that took the hold: only it may end it (see `drop`).
    pid: u32,
}

impl Drop for HeldPixels {
    fn drop(&mut self) {
        // A child forked while the frame was held has a copy of this object
        // but shares the hold file with its parent (a shared mapping, the
        // same name): ending the hold there would let the writer reuse a
        // slot the parent still reads, and dropping the last reference to the
        // hold file would remove the parent's file. The child leaves both be.
        if std::process::id() == self.pid {
            // SAFETY: `frame` is dropped here only, once, and never used after.
            unsafe { ManuallyDrop::drop(&mut self.frame) };
        }
    }
}

#[pymethods]
impl HeldPixels {
    /// Bytes of the frame held.
    fn __len__(&self) -> usize {
        self.frame.pixels().len()
    }

    fn __repr__(&self) -> String {
        format!(
            "<shmframe held frame #{}, {} bytes>",
            self.frame.info().index,
            self.frame.pixels().len()
        )
    }
}

/// A read-only 1-D uint8 array over `frame`'s pixels in the segment, whose
/// `base` owns the hold.
pub fn held_array(py: Python<'_>, frame: OwnedHeldFrame) -> PyResult<Bound<'_, PyArray1<u8>>> {
    let holder = HeldPixels {
        frame: ManuallyDrop::new(frame),
        pid: std::process::id(),
    };
    let holder = Bound::new(py, holder)?;
    let pixels = ArrayView1::from(holder.get().frame.pixels());
    // SAFETY: `borrow_from_array` needs the memory to stay valid and in
    // place for as long as `holder` (the array's base) lives. `holder` owns
    // the `OwnedHeldFrame`: it keeps the mapping alive (so the address stays
    // valid, even after the reader closes) and the hold, under which the
    // writer writes no byte of the slot, so the bytes do not change either.
    // `HeldPixels` is frozen and has no method that drops the frame early; in
    // a forked child, its `drop` leaks the frame, so the mapping stays there too.
    let array = unsafe { PyArray1::borrow_from_array(&pixels, holder.clone().into_any()) };
    // The mapping is PROT_READ: a write through the array would fault. Once
    // the flag is cleared, numpy refuses to set it again on an array whose
    // base is not a writeable array or buffer (`HeldPixels` is neither).
    let readonly = array.try_readwrite()?.make_nonwriteable();
    Ok(readonly.as_unbound().bind(py).clone())
}
