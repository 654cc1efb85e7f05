//! HTTP/1.1 on one connection: the request head in, one response out.
//!
//! Each connection carries one request (`Connection: close`): the pages make
//! few requests and keep their frames on a WebSocket, so keep-alive would buy
//! little and cost a state machine.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The largest request head read; longer heads are refused (431).
const MAX_HEAD: usize = 16 * 1024;
/// Headers parsed at most.
const MAX_HEADERS: usize = 48;

/// A request head, its path split from its query.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The path as sent (not percent-decoded: stream names need no escapes).
    pub path: String,
    /// Query parameters, percent-decoded.
    pub query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Query parameter `name` parsed as a number, 400 if it does not parse.
    pub fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, HttpError> {
        self.param(name)
            .map(|text| {
                text.parse().map_err(|_| {
                    HttpError::new(
                        400,
                        format!("query parameter `{name}` is not a number: `{text}`"),
                    )
                })
            })
            .transpose()
    }

    /// Whether the client asks to switch to WebSocket.
    pub fn is_websocket(&self) -> bool {
        self.header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    }
}

/// A request answered with an error status and a message for the person.
#[derive(Debug)]
pub struct HttpError {
    pub status: u16,
    pub message: String,
}

impl HttpError {
    /// Status `status` with `message`.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        HttpError {
            status,
            message: message.into(),
        }
    }
}

/// Reads and parses one request head, which must arrive whole within
/// `limit` (however slowly its bytes trickle in); bytes after it (a body)
/// are ignored.
pub fn read_request(stream: &mut TcpStream, limit: Duration) -> Result<Request, HttpError> {
    let deadline = Instant::now() + limit;
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(HttpError::new(408, "the request head took too long"));
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| HttpError::new(500, format!("setting a timeout: {e}")))?;
        let n = stream
            .read(&mut chunk)
            .map_err(|e| HttpError::new(408, format!("reading the request: {e}")))?;
        if n == 0 {
            return Err(HttpError::new(
                400,
                "the connection closed before a full request",
            ));
        }
        head.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(&head) {
            Ok(httparse::Status::Complete(_)) => return Ok(request_of(&parsed)),
            Ok(httparse::Status::Partial) if head.len() <= MAX_HEAD => continue,
            Ok(httparse::Status::Partial) => {
                return Err(HttpError::new(
                    431,
                    "the request head is longer than 16 KiB",
                ))
            }
            Err(e) => return Err(HttpError::new(400, format!("not an HTTP/1.1 request: {e}"))),
        }
    }
}

fn request_of(parsed: &httparse::Request<'_, '_>) -> Request {
    let target = parsed.path.unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect();
    let headers = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    Request {
        method: parsed.method.unwrap_or("GET").to_string(),
        path: path.to_string(),
        query,
        headers,
    }
}

/// `%XX` escapes and `+` decoded; a malformed escape is kept as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A whole response with its body.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// Extra header lines, each without its CRLF.
    pub headers: Vec<String>,
}

impl Response {
    /// 200 with `body` of `content_type`.
    pub fn ok(content_type: &'static str, body: Vec<u8>) -> Self {
        Response {
            status: 200,
            content_type,
            body,
            headers: vec!["Cache-Control: no-store".into()],
        }
    }

    /// The error as a plain-text response.
    pub fn error(err: &HttpError) -> Self {
        let mut response = Response::ok(
            "text/plain; charset=utf-8",
            format!("{} {}: {}\n", err.status, reason(err.status), err.message).into_bytes(),
        );
        response.status = err.status;
        if err.status == 401 {
            response
                .headers
                .push("WWW-Authenticate: Bearer realm=\"shmframe\"".into());
        }
        response
    }
}

/// Writes `response` and flushes it.
pub fn write_response(stream: &mut TcpStream, response: &Response) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    for line in &response.headers {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&response.body)?;
    stream.flush()
}

/// The reason phrase of the statuses this server sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        101 => "Switching Protocols",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// Closes after the response: the request's unread bytes are read first, or
/// the kernel would answer them with a reset that can destroy the response
/// before the client has read it.
pub fn close_gently(stream: &mut TcpStream) {
    use std::io::Read;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut sink = [0u8; 4096];
    for _ in 0..4 {
        match stream.read(&mut sink) {
            Ok(n) if n > 0 => continue,
            _ => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode_and_bad_ones_stay() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%41"), "A");
        assert_eq!(percent_decode("%"), "%");
    }
}
