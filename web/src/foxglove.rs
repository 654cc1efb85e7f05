//! The Foxglove WebSocket protocol (`foxglove.sdk.v1`, `foxglove.websocket.v1`)
//! on `/`: one channel per stream as ROS 2 `sensor_msgs/msg/Image` in CDR and
//! one as `sensor_msgs/msg/CompressedImage` (JPEG), advertised as streams
//! appear and unadvertised as they go.
//!
//! Each subscription gets the latest frame when the previous message has been
//! written, never a queue. Frames are encoded once per stream and kind
//! whatever the number of clients (the hub's shared encodings).

use crate::context::Context;
use crate::encode::Variant;
use crate::http::{HttpError, Request};
use crate::hub::Watch;
use crate::ros_image::{COMPRESSED_SCHEMA, IMAGE_SCHEMA};
use crate::websocket::accept;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::ErrorKind;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// The subprotocol names in use, newest first.
pub const SUBPROTOCOLS: [&str; 2] = ["foxglove.sdk.v1", "foxglove.websocket.v1"];
/// How often the list of streams is looked at.
const LISTING_PERIOD: Duration = Duration::from_secs(1);
/// Longest wait for a frame before looking at the client's messages again.
const FRAME_WAIT: Duration = Duration::from_millis(50);
/// A read of a message that has started arriving waits this long for the rest.
const MESSAGE_READ: Duration = Duration::from_millis(5);
/// Binary opcode of Message Data.
const MESSAGE_DATA: u8 = 0x01;

/// The two channels of a stream.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Image,
    Compressed,
}

struct Channel {
    stream: String,
    kind: Kind,
}

struct Subscription {
    channel: u64,
    watch: Watch,
    seen: u64,
}

/// Serves one Foxglove client until it goes.
pub fn serve(stream: TcpStream, request: &Request, context: &Context) -> Result<(), HttpError> {
    let offered = request.header("sec-websocket-protocol").unwrap_or("");
    if !offered
        .split(',')
        .map(str::trim)
        .any(|p| SUBPROTOCOLS.contains(&p))
    {
        return Err(HttpError::new(
            400,
            "a WebSocket on / speaks the Foxglove protocol: offer foxglove.sdk.v1 or foxglove.websocket.v1 (the pages use /ws/NAME)",
        ));
    }
    let (socket, _) = accept(stream, request, &SUBPROTOCOLS)?;
    let _ = socket.get_ref().set_read_timeout(Some(MESSAGE_READ));
    Session::new(socket, context).run();
    Ok(())
}

struct Session<'a> {
    socket: WebSocket<TcpStream>,
    context: &'a Context,
    /// Stream name to its channel ids (image, compressed).
    advertised: BTreeMap<String, [u64; 2]>,
    channels: HashMap<u64, Channel>,
    subscriptions: HashMap<u64, Subscription>,
    next_channel: u64,
}

impl<'a> Session<'a> {
    fn new(socket: WebSocket<TcpStream>, context: &'a Context) -> Self {
        Session {
            socket,
            context,
            advertised: BTreeMap::new(),
            channels: HashMap::new(),
            subscriptions: HashMap::new(),
            next_channel: 1,
        }
    }

    /// Returns when the client has gone (or a write failed).
    fn run(mut self) {
        let info = json!({
            "op": "serverInfo",
            "name": "shmframe",
            "capabilities": [],
            "supportedEncodings": [],
            "metadata": {},
            "sessionId": format!("{}", shmframe::monotonic_ns()),
        });
        if self.send_json(&info).is_err() {
            return;
        }
        let signal = self.context.hub.any_frame();
        let mut frames_seen = signal.count();
        let mut next_listing = Instant::now();
        loop {
            if Instant::now() >= next_listing {
                next_listing = Instant::now() + LISTING_PERIOD;
                if self.advertise_changes().is_err() {
                    return;
                }
            }
            if self.read_client().is_err() || self.send_frames().is_err() {
                return;
            }
            frames_seen = signal.wait_past(frames_seen, FRAME_WAIT);
        }
    }

    fn send_json(&mut self, value: &Value) -> Result<(), ()> {
        self.socket
            .send(Message::Text(value.to_string().into()))
            .map_err(|_| ())
    }

    fn status(&mut self, level: u8, message: String) -> Result<(), ()> {
        self.send_json(&json!({ "op": "status", "level": level, "message": message }))
    }

    /// Advertises streams that appeared and unadvertises those gone.
    fn advertise_changes(&mut self) -> Result<(), ()> {
        let names = shmframe::list_streams().unwrap_or_default();
        let gone: Vec<String> = self
            .advertised
            .keys()
            .filter(|n| !names.contains(n))
            .cloned()
            .collect();
        if !gone.is_empty() {
            let mut ids = Vec::new();
            for name in &gone {
                if let Some(pair) = self.advertised.remove(name) {
                    ids.extend(pair);
                }
            }
            self.channels.retain(|id, _| !ids.contains(id));
            self.subscriptions.retain(|_, s| !ids.contains(&s.channel));
            self.send_json(&json!({ "op": "unadvertise", "channelIds": ids }))?;
        }
        let mut channels = Vec::new();
        for name in names {
            if self.advertised.contains_key(&name) {
                continue;
            }
            let ids = [self.next_channel, self.next_channel + 1];
            self.next_channel += 2;
            for (id, kind) in ids.into_iter().zip([Kind::Image, Kind::Compressed]) {
                channels.push(channel_json(id, &name, kind));
                self.channels.insert(
                    id,
                    Channel {
                        stream: name.clone(),
                        kind,
                    },
                );
            }
            self.advertised.insert(name, ids);
        }
        if channels.is_empty() {
            return Ok(());
        }
        self.send_json(&json!({ "op": "advertise", "channels": channels }))
    }

    /// Handles every message the client has sent; Err when it has gone.
    fn read_client(&mut self) -> Result<(), ()> {
        loop {
            match self.socket.read() {
                Ok(Message::Text(text)) => self.handle(&text)?,
                Ok(Message::Close(_)) => return Err(()),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    return Ok(())
                }
                Err(_) => return Err(()),
            }
        }
    }

    fn handle(&mut self, text: &str) -> Result<(), ()> {
        let Ok(message) = serde_json::from_str::<Value>(text) else {
            return self.status(2, "a message that is not JSON was ignored".into());
        };
        match message["op"].as_str() {
            Some("subscribe") => {
                let wanted = message["subscriptions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                for entry in wanted {
                    let (Some(id), Some(channel)) = (
                        entry["id"].as_u64().and_then(|id| u32::try_from(id).ok()),
                        entry["channelId"].as_u64(),
                    ) else {
                        self.status(
                            2,
                            "a subscription needs an id (uint32) and a channelId".into(),
                        )?;
                        continue;
                    };
                    self.subscribe(u64::from(id), channel)?;
                }
                Ok(())
            }
            Some("unsubscribe") => {
                for id in message["subscriptionIds"].as_array().into_iter().flatten() {
                    if let Some(id) = id.as_u64() {
                        self.subscriptions.remove(&id);
                    }
                }
                Ok(())
            }
            Some(op) => {
                let op = op.to_string();
                self.status(1, format!("`{op}` is not supported by this server"))
            }
            None => self.status(2, "a message without `op` was ignored".into()),
        }
    }

    fn subscribe(&mut self, id: u64, channel: u64) -> Result<(), ()> {
        let Some(stream) = self.channels.get(&channel).map(|c| c.stream.clone()) else {
            return self.status(2, format!("no channel {channel}"));
        };
        match self.context.hub.watch(&stream) {
            Ok(watch) => {
                self.subscriptions.insert(
                    id,
                    Subscription {
                        channel,
                        watch,
                        seen: 0,
                    },
                );
                Ok(())
            }
            Err(e) => self.status(2, format!("cannot subscribe to `{stream}`: {e}")),
        }
    }

    /// Sends each subscription its latest frame, if it has not had it.
    fn send_frames(&mut self) -> Result<(), ()> {
        let quality = self.context.config.quality;
        let mut ids: Vec<u64> = self.subscriptions.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let Some(subscription) = self.subscriptions.get_mut(&id) else {
                continue;
            };
            let Some(frame) = subscription
                .watch
                .latest()
                .filter(|f| f.serial != subscription.seen)
            else {
                continue;
            };
            subscription.seen = frame.serial;
            let kind = self.channels.get(&subscription.channel).map(|c| c.kind);
            let variant = match kind {
                Some(Kind::Image) => Variant::RosImage,
                Some(Kind::Compressed) => Variant::RosJpeg { quality },
                None => continue,
            };
            let Ok(encoding) = frame.encoded(&variant) else {
                continue;
            };
            let mut message = Vec::with_capacity(13 + encoding.bytes.len());
            message.push(MESSAGE_DATA);
            // Subscription ids were checked to fit in u32 when subscribed.
            message.extend_from_slice(&(id as u32).to_le_bytes());
            message.extend_from_slice(&frame.info.timestamp_ns.to_le_bytes());
            message.extend_from_slice(&encoding.bytes);
            self.socket
                .send(Message::Binary(message.into()))
                .map_err(|_| ())?;
        }
        Ok(())
    }
}

fn channel_json(id: u64, stream: &str, kind: Kind) -> Value {
    let (topic, schema_name, schema) = match kind {
        Kind::Image => (format!("/{stream}"), "sensor_msgs/msg/Image", IMAGE_SCHEMA),
        Kind::Compressed => (
            format!("/{stream}/compressed"),
            "sensor_msgs/msg/CompressedImage",
            COMPRESSED_SCHEMA,
        ),
    };
    json!({
        "id": id,
        "topic": topic,
        "encoding": "cdr",
        "schemaName": schema_name,
        "schema": schema,
        "schemaEncoding": "ros2msg",
    })
}
