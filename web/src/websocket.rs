//! The WebSocket handshake on a request already read, then tungstenite's framing.

use crate::http::{HttpError, Request};
use std::io::Write;
use std::net::TcpStream;
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::WebSocket;

/// Largest message a client may send (they send small JSON).
const MAX_CLIENT_MESSAGE: usize = 64 * 1024;

/// Answers the upgrade and returns the socket and the subprotocol chosen:
/// the first of `protocols` the client offered.
pub fn accept(
    mut stream: TcpStream,
    request: &Request,
    protocols: &[&'static str],
) -> Result<(WebSocket<TcpStream>, Option<&'static str>), HttpError> {
    let key = request
        .header("sec-websocket-key")
        .ok_or_else(|| HttpError::new(400, "a WebSocket upgrade without Sec-WebSocket-Key"))?;
    if request.header("sec-websocket-version") != Some("13") {
        return Err(HttpError::new(400, "only WebSocket version 13 is spoken"));
    }
    let offered: Vec<&str> = request
        .header("sec-websocket-protocol")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .collect();
    let chosen = protocols.iter().copied().find(|p| offered.contains(p));
    let mut head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
        tungstenite::handshake::derive_accept_key(key.trim().as_bytes())
    );
    if let Some(protocol) = chosen {
        head.push_str(&format!("Sec-WebSocket-Protocol: {protocol}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .map_err(|e| HttpError::new(400, format!("writing the handshake: {e}")))?;
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_CLIENT_MESSAGE))
        .max_frame_size(Some(MAX_CLIENT_MESSAGE));
    Ok((
        WebSocket::from_raw_socket(stream, Role::Server, Some(config)),
        chosen,
    ))
}

/// Whether the peer has closed its side (without reading anything).
pub fn peer_closed(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0u8; 1];
    let closed = match stream.peek(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    };
    closed || stream.set_nonblocking(false).is_err()
}
