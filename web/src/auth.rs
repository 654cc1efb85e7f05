//! The optional token every request must carry.

use crate::http::{HttpError, Request};

/// Checks `request` against `token` (if set): `?token=SECRET` or
/// `Authorization: Bearer SECRET`. A missing or wrong token is a 401.
pub fn check(token: Option<&str>, request: &Request) -> Result<(), HttpError> {
    let Some(expected) = token else {
        return Ok(());
    };
    let bearer = request
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let given = request.param("token").or(bearer);
    match given {
        Some(given) if same_secret(given.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(HttpError::new(401, "wrong token")),
        None => Err(HttpError::new(
            401,
            "this server needs a token: add ?token=SECRET to the address, or send Authorization: Bearer SECRET",
        )),
    }
}

/// Compares in time that depends on the lengths only, not on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
    }
}
