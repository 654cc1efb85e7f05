//! Reading the pixels of a numpy array in place: which element type it has,
//! whether its rows can be published as they lie in memory, and its bytes.

use crate::formats::Element;
use numpy::{
    dtype, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::prelude::*;

/// The element type of `array`, if it is one a format uses (in native byte order).
pub fn element_of(array: &Bound<'_, PyUntypedArray>) -> Option<Element> {
    let py = array.py();
    let descr = array.dtype();
    [Element::U8, Element::U16, Element::F32]
        .into_iter()
        .find(|element| match element {
            Element::U8 => descr.is_equiv_to(&dtype::<u8>(py)),
            Element::U16 => descr.is_equiv_to(&dtype::<u16>(py)),
            Element::F32 => descr.is_equiv_to(&dtype::<f32>(py)),
        })
}

/// Where an image's rows lie in an array's memory.
#[derive(Clone, Copy, Debug)]
pub struct Rows {
    pub width: usize,
    pub height: usize,
    /// Bytes from one row's start to the next.
    pub stride: usize,
    /// Bytes of pixels in a row.
    pub row_bytes: usize,
}

impl Rows {
    /// Bytes from the first row's start to the last row's end.
    pub fn span(&self) -> usize {
        (self.height - 1) * self.stride + self.row_bytes
    }
}

/// The rows of an HxW or HxWxC array of `channels` samples of `element` per
/// pixel, if each row is contiguous in memory; the message says what is wrong.
pub fn image_rows(
    array: &Bound<'_, PyUntypedArray>,
    element: Element,
    channels: usize,
) -> Result<Rows, String> {
    let (shape, strides) = (array.shape(), array.strides());
    let shape_ok = match shape.len() {
        2 => channels == 1,
        3 => shape[2] == channels,
        _ => false,
    };
    if !shape_ok {
        let expected = if channels == 1 {
            "HxW (or HxWx1)".to_string()
        } else {
            format!("HxWx{channels}")
        };
        return Err(format!(
            "expected an array of shape {expected} for this format, got shape {shape:?}"
        ));
    }
    let (height, width) = (shape[0], shape[1]);
    if height == 0 || width == 0 {
        return Err(format!("the array of shape {shape:?} has no pixels"));
    }
    let size = element.size();
    let pixel = channels * size;
    // Axes of length 1 may carry any stride (numpy leaves them arbitrary).
    let channels_contiguous = shape.len() < 3 || shape[2] == 1 || strides[2] == size as isize;
    let pixels_contiguous = width == 1 || strides[1] == pixel as isize;
    if !channels_contiguous || !pixels_contiguous {
        return Err(format!(
            "each row must be contiguous in memory (strides {strides:?} for shape {shape:?}); \
             pass numpy.ascontiguousarray(frame)"
        ));
    }
    let row_bytes = width * pixel;
    let stride = if height == 1 {
        row_bytes
    } else {
        match usize::try_from(strides[0]) {
            Ok(stride) if stride >= row_bytes => stride,
            _ => {
                return Err(format!(
                    "rows must follow one another in memory at least {row_bytes} bytes apart, \
                     got a row stride of {} bytes; pass numpy.ascontiguousarray(frame)",
                    strides[0]
                ))
            }
        }
    };
    Ok(Rows {
        width,
        height,
        stride,
        row_bytes,
    })
}

/// Calls `f` with the `span` bytes of `array` from its first element on.
///
/// The caller has checked (with [`image_rows`], or by C-contiguity) that all
/// strides are non-negative and that the first `span` bytes end with the
/// array's last element, so they lie inside the array's memory.
pub fn with_bytes<R>(
    array: &Bound<'_, PyUntypedArray>,
    element: Element,
    span: usize,
    f: impl FnOnce(&[u8]) -> R,
) -> PyResult<R> {
    match element {
        Element::U8 => with_typed_bytes::<u8, R>(array, span, f),
        Element::U16 => with_typed_bytes::<u16, R>(array, span, f),
        Element::F32 => with_typed_bytes::<f32, R>(array, span, f),
    }
}

fn with_typed_bytes<T: numpy::Element, R>(
    array: &Bound<'_, PyUntypedArray>,
    span: usize,
    f: impl FnOnce(&[u8]) -> R,
) -> PyResult<R> {
    let typed = array.cast::<PyArrayDyn<T>>()?;
    // Fails if Rust code elsewhere holds the array mutably; keeps it alive and
    // unborrowed-for-writing by Rust while `f` runs.
    let readonly = typed.try_readonly()?;
    let first = readonly.as_array().as_ptr().cast::<u8>();
    // SAFETY: the array has at least one element (checked by the callers) and
    // non-negative strides, so its elements occupy one allocation from `first`
    // on; the caller computed `span` as the distance from `first` to the end of
    // the last element, so every byte is inside that allocation. `readonly` is
    // held until `f` returns. Python code in another thread may still write the
    // array meanwhile, as with any numpy operation that releases the GIL; the
    // published frame is then whatever bytes were read.
    let bytes = unsafe { std::slice::from_raw_parts(first, span) };
    Ok(f(bytes))
}
