//! The listening socket and one thread per connection, bounded in number.
//!
//! Threads rather than an async runtime: a connection's thread spends its life
//! blocked in a read, a write or a wait for the next frame, each with a
//! timeout, so a client that never reads costs one parked thread (a small
//! stack) and the kernel's socket buffer until its write times out, and never
//! a queue of frames. See docs/decisions.md for the measurement.

use crate::context::Context;
use crate::http::{close_gently, write_response, HttpError, Response};
use crate::hub::Hub;
use crate::{Config, WebError};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A connection's stack: handlers keep their buffers on the heap.
const STACK_SIZE: usize = 256 * 1024;

/// A running server.
pub struct Server {
    addr: SocketAddr,
    context: Arc<Context>,
    accept: JoinHandle<()>,
}

impl Server {
    /// Listens on `config.listen` and serves in background threads.
    pub fn start(config: Config) -> Result<Server, WebError> {
        config.validate()?;
        let listener = TcpListener::bind(config.listen).map_err(|source| WebError::Listen {
            addr: config.listen,
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| WebError::Listen {
            addr: config.listen,
            source,
        })?;
        let context = Arc::new(Context {
            config,
            hub: Hub::new(),
            connections: AtomicUsize::new(0),
        });
        let accept_context = context.clone();
        let accept = std::thread::Builder::new()
            .name("accept".into())
            .spawn(move || accept_loop(&listener, &accept_context))
            .map_err(|e| WebError::Config(format!("cannot start the server thread: {e}")))?;
        Ok(Server {
            addr,
            context,
            accept,
        })
    }

    /// The address it listens on (with the port chosen, if 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections being served now.
    pub fn connections(&self) -> usize {
        self.context.connections.load(Ordering::Relaxed)
    }

    /// Serves until the process ends.
    pub fn wait(self) {
        let _ = self.accept.join();
    }
}

fn accept_loop(listener: &TcpListener, context: &Arc<Context>) {
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            // Out of file descriptors, or a connection reset before accept: go on.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let slot = Slot::take(context);
        if slot.is_none() {
            refuse_busy(stream);
            continue;
        }
        let context = context.clone();
        // A failed spawn drops the connection (and its slot) at once.
        let _ = std::thread::Builder::new()
            .name("connection".into())
            .stack_size(STACK_SIZE)
            .spawn(move || {
                let _slot = slot;
                serve(stream, &context);
            });
    }
}

fn serve(stream: TcpStream, context: &Context) {
    let timeout = Some(context.config.io_timeout);
    let timeouts = stream
        .set_read_timeout(timeout)
        .and_then(|()| stream.set_write_timeout(timeout))
        .and_then(|()| stream.set_nodelay(true));
    if timeouts.is_ok() {
        crate::route::serve_connection(stream, context);
    }
}

/// 503 from the accept thread, which waits on this client 20 ms at most.
fn refuse_busy(mut stream: TcpStream) {
    let limit = Some(Duration::from_millis(20));
    let _ = stream.set_write_timeout(limit);
    let _ = stream.set_read_timeout(limit);
    let err = HttpError::new(503, "too many connections; try again shortly");
    if write_response(&mut stream, &Response::error(&err)).is_ok() {
        close_gently(&mut stream);
    }
}

/// One of the `max_connections` places, given back when dropped.
struct Slot(Arc<Context>);

impl Slot {
    fn take(context: &Arc<Context>) -> Option<Slot> {
        let before = context.connections.fetch_add(1, Ordering::Relaxed);
        let slot = Slot(context.clone());
        (before < context.config.max_connections).then_some(slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::Relaxed);
    }
}
