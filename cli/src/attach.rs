//! Opening a stream by name, optionally waiting for it to appear.

use crate::fail::{CliError, CliResult};
use shmframe::{Error, Reader};
use std::time::{Duration, Instant};

/// Pause between attempts while the stream does not exist yet.
const RETRY: Duration = Duration::from_millis(20);

/// Opens stream `name`, retrying until `deadline` while it does not exist.
/// `gone` is asked between attempts whether to give up early (for example
/// because the publisher we started has exited). If the stream never
/// appears, `hint` is added to the error message.
pub fn open_until(
    name: &str,
    deadline: Instant,
    hint: &str,
    mut gone: impl FnMut() -> Option<CliError>,
) -> CliResult<Reader> {
    loop {
        match Reader::open(name) {
            Ok(reader) => return Ok(reader),
            Err(Error::NoStream { .. }) if Instant::now() < deadline => {
                if let Some(err) = gone() {
                    return Err(err);
                }
                std::thread::sleep(RETRY);
            }
            Err(err @ Error::NoStream { .. }) if !hint.is_empty() => {
                return Err(CliError::new(format!("{err} {hint}")))
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Parses a number of seconds for `--wait`-like options.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(seconds.is_finite() && (0.0..=86_400.0).contains(&seconds)) {
        return Err(format!("{text} seconds is outside 0..=86400"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_checked() {
        assert_eq!(parse_seconds("1.5"), Ok(Duration::from_millis(1500)));
        for bad in ["", "-1", "nan", "inf", "1e9", "soon"] {
            assert!(parse_seconds(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn a_missing_stream_is_reported_after_the_deadline() {
        let name = format!("cli-unit-missing-{}", std::process::id());
        let err = open_until(&name, Instant::now(), "Start one.", || None)
            .err()
            .expect("no stream");
        assert!(
            err.to_string()
                .starts_with(&format!("no stream named `{name}`")),
            "{err}"
        );
        assert!(err.to_string().ends_with("? Start one."), "{err}");
        let err = open_until(&name, Instant::now() + Duration::from_secs(10), "", || {
            Some(CliError::new("gave up"))
        })
        .err()
        .expect("gave up");
        assert_eq!(err.to_string(), "gave up");
    }
}
