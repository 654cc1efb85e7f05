//! Which handler answers a request, and the errors of a bad one.

use crate::context::Context;
use crate::http::{close_gently, read_request, write_response, HttpError, Request, Response};
use crate::stream_errors::stream_name;
use crate::{api, assets, auth, foxglove, mjpeg, page_socket, snapshot};
use std::net::TcpStream;

/// Reads one request from `stream` and answers it.
pub fn serve_connection(mut stream: TcpStream, context: &Context) {
    let outcome = read_request(&mut stream, context.config.io_timeout).and_then(|request| {
        auth::check(context.config.token.as_deref(), &request)?;
        route(&mut stream, &request, context)
    });
    let response = match outcome {
        Ok(Some(response)) => response,
        // The handler answered (a stream, a WebSocket) and is done.
        Ok(None) => return,
        Err(err) => Response::error(&err),
    };
    if write_response(&mut stream, &response).is_ok() {
        let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(200)));
        close_gently(&mut stream);
    }
}

/// The response, or `None` when the handler wrote to the connection itself.
fn route(
    stream: &mut TcpStream,
    request: &Request,
    context: &Context,
) -> Result<Option<Response>, HttpError> {
    if request.method != "GET" {
        return Err(HttpError::new(
            405,
            format!("{} is not served: only GET", request.method),
        ));
    }
    let path = request.path.as_str();
    if path == "/" && request.is_websocket() {
        return foxglove::serve(owned(stream)?, request, context).map(|()| None);
    }
    if let Some(name) = path.strip_prefix("/ws/") {
        let name = stream_name(name)?;
        return page_socket::serve(owned(stream)?, request, name, context).map(|()| None);
    }
    if let Some(name) = path.strip_prefix("/mjpeg/") {
        return mjpeg::serve(stream, request, stream_name(name)?, context).map(|()| None);
    }
    let response = match path {
        "/" => assets::index(),
        "/api/streams" => api::streams(),
        "/api/stats" => api::stats(),
        _ => {
            if let Some(name) = path.strip_prefix("/stream/") {
                assets::stream_page(stream_name(name)?)?
            } else if let Some(name) = path.strip_prefix("/api/pixel/") {
                api::pixel(request, stream_name(name)?, context)?
            } else if let Some(file) = path.strip_prefix("/snapshot/") {
                snapshot::serve(request, file, context)?
            } else {
                return Err(HttpError::new(
                    404,
                    format!("nothing at {path}: try / for every stream"),
                ));
            }
        }
    };
    Ok(Some(response))
}

/// The connection for a handler that keeps it.
fn owned(stream: &TcpStream) -> Result<TcpStream, HttpError> {
    stream
        .try_clone()
        .map_err(|e| HttpError::new(500, format!("cannot keep the connection: {e}")))
}
