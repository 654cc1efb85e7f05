//! `shmframe web`: every shmframe stream of the machine in a browser, and to
//! Foxglove or Lichtblick over the Foxglove WebSocket protocol.
//!
//! One small server on plain threads (one per connection, bounded in number):
//! HTTP/1.1 heads parsed by `httparse`, WebSocket framing by `tungstenite`.
//! Per stream, one reader thread runs while someone watches, and each frame is
//! converted and encoded at most once per kind of output (raw RGBA, JPEG at a
//! quality and width, PNG, ROS 2 CDR), however many clients want it. Every
//! client gets the latest frame, never a queue: a slow client gets fewer frames
//! and slows nobody else.
//!
//! ```no_run
//! let config = shmframe_web::Config::default();
//! let server = shmframe_web::Server::start(config)?;
//! println!("serving on http://{}/", server.addr());
//! server.wait();
//! # Ok::<(), shmframe_web::WebError>(())
//! ```

mod api;
mod assets;
mod auth;
mod config;
mod context;
mod encode;
mod error;
mod foxglove;
mod http;
mod hub;
mod mjpeg;
mod options;
mod page_socket;
mod ros_image;
mod route;
mod server;
mod snapshot;
mod stream_errors;
mod websocket;

pub use api::describe_stream;
pub use config::Config;
pub use error::WebError;
pub use server::Server;
