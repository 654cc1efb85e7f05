//! Stream names: the one thing two processes share.

use crate::error::{Error, Result};

/// Longest stream name, in bytes.
pub const MAX_NAME_LEN: usize = 200;

/// Checks that `name` is a valid stream name: 1 to 200 bytes of `[A-Za-z0-9._-]`,
/// and neither `.` nor `..`.
pub fn validate_name(name: &str) -> Result<()> {
    let invalid = |reason: &str| {
        Err(Error::InvalidName {
            name: name.escape_debug().to_string(),
            reason: reason.to_string(),
        })
    };
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name.len() > MAX_NAME_LEN {
        return invalid("it is longer than 200 bytes");
    }
    if name == "." || name == ".." {
        return invalid("`.` and `..` are not names");
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return invalid(&format!(
            "it contains {:?}; use only letters, digits, `.`, `_` and `-`",
            bad
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names() {
        for name in ["default", "cam0", "a.b-c_d", "x", &"n".repeat(200)] {
            assert!(validate_name(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn refuses_paths_and_odd_bytes() {
        for name in [
            "",
            ".",
            "..",
            "a/b",
            "../x",
            "a\0b",
            "a b",
            "é",
            &"n".repeat(201),
        ] {
            let err = validate_name(name).unwrap_err();
            assert!(matches!(err, Error::InvalidName { .. }), "{name}: {err}");
        }
    }
}
