//! Zenoh's configuration from the options its users know: `--mode`,
//! `--connect`, `--listen` and `--config FILE` (Zenoh's own JSON5).

use crate::error::{Error, Result};
use std::path::PathBuf;

/// The Zenoh session's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "net", derive(clap::ValueEnum))]
pub enum ZenohMode {
    /// Talks to other peers directly (Zenoh's default).
    Peer,
    /// Talks through one router.
    Client,
}

/// Zenoh options shared by `export` and `import`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ZenohArgs {
    /// Zenoh mode: peer (direct) or client (through a router).
    #[arg(long, value_enum)]
    pub mode: Option<ZenohMode>,
    /// Endpoint to connect to, e.g. tcp/192.0.2.7:7447 (repeatable).
    #[arg(short = 'e', long = "connect", value_name = "ENDPOINT")]
    pub connect: Vec<String>,
    /// Endpoint to listen on, e.g. tcp/0.0.0.0:7447 (repeatable).
    #[arg(short = 'l', long = "listen", value_name = "ENDPOINT")]
    pub listen: Vec<String>,
    /// Zenoh configuration file (JSON5); the options above override it.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Find peers by UDP multicast scouting (off unless a --config file turns it on:
    /// give --connect/--listen endpoints instead).
    #[arg(long)]
    pub scout: bool,
}

impl ZenohArgs {
    /// The Zenoh configuration these options describe.
    pub fn to_config(&self) -> Result<zenoh::Config> {
        let mut config = match &self.config {
            Some(path) => zenoh::Config::from_file(path).map_err(|e| {
                Error::Usage(format!(
                    "cannot use the Zenoh configuration {}: {e}",
                    path.display()
                ))
            })?,
            None => zenoh::Config::default(),
        };
        let mut set = |key: &str, value: String| {
            config
                .insert_json5(key, &value)
                .map_err(|e| Error::Usage(format!("invalid Zenoh setting {key} = {value}: {e}")))
        };
        if let Some(mode) = self.mode {
            let mode = match mode {
                ZenohMode::Peer => "peer",
                ZenohMode::Client => "client",
            };
            set("mode", format!("\"{mode}\""))?;
        }
        if !self.connect.is_empty() {
            set("connect/endpoints", endpoint_list(&self.connect)?)?;
        }
        if !self.listen.is_empty() {
            set("listen/endpoints", endpoint_list(&self.listen)?)?;
        }
        // Multicast scouting announces us on every interface; only where asked.
        if self.scout {
            set("scouting/multicast/enabled", "true".into())?;
        } else if self.config.is_none() {
            set("scouting/multicast/enabled", "false".into())?;
        }
        Ok(config)
    }
}

/// A JSON5 list of endpoint strings, each checked for characters that would break out of it.
fn endpoint_list(endpoints: &[String]) -> Result<String> {
    let mut quoted = Vec::with_capacity(endpoints.len());
    for e in endpoints {
        if e.is_empty() || e.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
            return Err(Error::Usage(format!(
                "invalid endpoint `{e}`: expected PROTOCOL/ADDRESS:PORT, e.g. tcp/192.0.2.7:7447"
            )));
        }
        quoted.push(format!("\"{e}\""));
    }
    Ok(format!("[{}]", quoted.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_become_zenoh_settings() {
        let args = ZenohArgs {
            mode: Some(ZenohMode::Client),
            connect: vec!["tcp/127.0.0.1:7447".into()],
            listen: vec!["tcp/127.0.0.1:0".into()],
            ..Default::default()
        };
        let config = args.to_config().unwrap();
        assert_eq!(config.get_json("mode").unwrap(), "\"client\"");
        assert!(config
            .get_json("connect/endpoints")
            .unwrap()
            .contains("tcp/127.0.0.1:7447"));
        assert_eq!(
            config.get_json("scouting/multicast/enabled").unwrap(),
            "false"
        );
    }

    #[test]
    fn bad_endpoints_and_files_are_usage_errors() {
        let args = ZenohArgs {
            connect: vec!["tcp/x\",\"y".into()],
            ..Default::default()
        };
        assert!(matches!(args.to_config(), Err(Error::Usage(_))));
        let args = ZenohArgs {
            connect: vec!["nonsense".into()],
            ..Default::default()
        };
        assert!(matches!(args.to_config(), Err(Error::Usage(_))));
        let args = ZenohArgs {
            config: Some("/nonexistent/zenoh.json5".into()),
            ..Default::default()
        };
        assert!(matches!(args.to_config(), Err(Error::Usage(_))));
    }
}
