//! Engine errors as the exception classes of `shmframe._errors`.
//!
//! The classes are defined in Python, where one class can derive from both
//! `shmframe.Error` and a built-in (`FileNotFoundError`, `ValueError`, ...);
//! this module raises them.

use pyo3::prelude::*;
use pyo3::types::PyType;

/// The name of the `shmframe._errors` class for each engine error.
fn class_name(error: &shmframe::Error) -> &'static str {
    use shmframe::Error as E;
    match error {
        E::NoStream { .. } => "NoStreamError",
        E::WriterExists { .. } => "WriterExistsError",
        E::ForeignOwner { .. } => "ForeignOwnerError",
        E::NotRegularFile { .. }
        | E::BadSegment { .. }
        | E::CorruptFrame { .. }
        | E::UnknownFormat { .. } => "CorruptSegmentError",
        E::Starved { .. } => "StarvedError",
        E::InvalidName { .. } | E::InvalidOptions(_) | E::InvalidEnvironment(_) => {
            "InvalidArgumentError"
        }
        E::BadFrame { .. } | E::FrameTooLarge { .. } | E::LengthMismatch { .. } => {
            "FrameValueError"
        }
        E::Io { .. } => "StreamOSError",
        _ => "Error",
    }
}

/// Looks up a class of `shmframe._errors`.
fn class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyType>> {
    Ok(py
        .import("shmframe._errors")?
        .getattr(name)?
        .cast_into::<PyType>()?)
}

/// Builds the Python exception for `class` with `message`.
pub fn raise(py: Python<'_>, class_name: &str, message: String) -> PyErr {
    match class(py, class_name).and_then(|class| class.call1((message,))) {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// The Python exception for an engine error.
pub fn to_py(py: Python<'_>, error: shmframe::Error) -> PyErr {
    let err = raise(py, class_name(&error), error.to_string());
    if let shmframe::Error::WriterExists { pid, .. } = error {
        // Callers can act on the pid without parsing the message.
        if let Err(e) = err.value(py).setattr("pid", pid) {
            return e;
        }
    }
    err
}

/// A `TypeError` that is also a `shmframe.Error`.
pub fn type_error(py: Python<'_>, message: String) -> PyErr {
    raise(py, "FrameTypeError", message)
}

/// A `ValueError` that is also a `shmframe.Error`.
pub fn value_error(py: Python<'_>, message: String) -> PyErr {
    raise(py, "FrameValueError", message)
}

/// Converts engine results, given the interpreter.
pub trait IntoPyResult<T> {
    fn py_result(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, shmframe::Error> {
    fn py_result(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e))
    }
}
