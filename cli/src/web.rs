//! `shmframe web`: the arguments; the server is the shmframe-web library.

use crate::fail::{CliError, CliResult};
use crate::output::outln;
use clap::Args;
use std::net::SocketAddr;

/// Serve every stream to browsers (live pages, PNG/JPEG snapshots, MJPEG) and
/// to Foxglove/Lichtblick (the Foxglove WebSocket protocol on ws://ADDR/).
///
/// Pages: / lists every stream; /stream/NAME shows one live (?codec=raw for
/// exact pixels, ?max_fps=N, ?max_width=N). Files: /snapshot/NAME.png (exact,
/// as `shmframe snapshot`), /snapshot/NAME.jpg, /mjpeg/NAME, /api/streams.
/// Listens on loopback unless --listen says otherwise; there is no TLS:
/// beyond a trusted network, reach it through an SSH tunnel.
#[derive(Args, Debug)]
pub struct WebArgs {
    /// Address and port to listen on (0.0.0.0:8080 for every interface).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// A secret every request must carry (?token=SECRET or Authorization: Bearer SECRET).
    #[arg(
        long,
        value_name = "SECRET",
        env = "SHMFRAME_WEB_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// JPEG quality (1-100) when a client asks for none.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,

    /// Connections served at once (more are answered 503).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub max_connections: u32,
}

/// Runs `shmframe web` until the process is stopped.
pub fn run(args: WebArgs) -> CliResult<()> {
    let config = shmframe_web::Config {
        listen: args.listen,
        token: args.token,
        quality: args.quality,
        max_connections: args.max_connections as usize,
        ..shmframe_web::Config::default()
    };
    if config.beyond_loopback() {
        eprintln!(
            "warning: listening on {} lets other machines in, without TLS{}",
            config.listen,
            if config.token.is_some() {
                " (every request needs the token)"
            } else {
                " and without a token: anyone who can reach this port sees every stream (add --token SECRET, or listen on 127.0.0.1 and use an SSH tunnel)"
            }
        );
    }
    let has_token = config.token.is_some();
    let server = shmframe_web::Server::start(config).map_err(|e| CliError::new(e.to_string()))?;
    let suffix = if has_token { "?token=SECRET" } else { "" };
    outln!("serving every stream on http://{}/{suffix}", server.addr());
    outln!("Foxglove/Lichtblick: open ws://{}/{suffix}", server.addr());
    server.wait();
    Ok(())
}
