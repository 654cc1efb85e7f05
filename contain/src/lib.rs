//! Third-party codecs fed hostile bytes (an image file, a network message)
//! may panic on input they were never meant to see: zune-jpeg, for one, has
//! asserts in its IDCT and upsamplers that crafted JPEGs trip. [`contained`]
//! runs such a call and turns a panic into an error carrying its message,
//! and keeps the panic's report off stderr, since the caller's error says
//! what happened. A real bug in our own code inside the call is contained the
//! same way, so keep the calls small: the codec call itself.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Whether this thread is inside a call run by `contained`.
    static CONTAINED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `call`; if it panics, returns the panic's message instead.
///
/// Whatever `call` captured by reference may be left half-written by a
/// panic: the caller must treat it as garbage on an error (that is why the
/// call is taken as unwind-safe).
pub fn contained<T>(call: impl FnOnce() -> T) -> Result<T, String> {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CONTAINED.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let outer = CONTAINED.with(|flag| flag.replace(true));
    let result = catch_unwind(AssertUnwindSafe(call));
    CONTAINED.with(|flag| flag.set(outer));
    result.map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no reason given")
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::contained;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(contained(|| 7), Ok(7));
        let index = 9;
        let got = contained(|| [1, 2, 3][index]);
        assert!(got.unwrap_err().contains("index out of bounds"));
        assert_eq!(
            contained(|| -> u8 { panic!("bad marker") }),
            Err("bad marker".to_owned())
        );
    }

    #[test]
    fn nested_calls_stay_quiet_and_the_outer_one_still_catches() {
        let got = contained(|| {
            let inner = contained(|| -> () { panic!("inner") });
            assert_eq!(inner, Err("inner".to_owned()));
            panic!("outer")
        });
        assert_eq!(got, Err::<(), _>("outer".to_owned()));
    }
}
