//! `shmframe-bridge-probe`: the helper the bridge's tests and benchmark run on
//! each side of a link.
//!
//! - `source` publishes the test pattern (or raw RGBA frames from a file) into a local stream;
//! - `check` reads a local stream and verifies the pattern, exactly or within a tolerance;
//! - `codecs` measures each codec's size ratio and speed on a raw video;
//! - `hostile` puts malformed messages on a key;
//! - `floor-pub` / `floor-sub` put and take plain bytes with Zenoh alone (the floor).

use clap::{Args, Parser, Subcommand};
use shmframe::{FrameMeta, PixelFormat, Reader, Writer, WriterOptions};
use shmframe_bridge::net::ZenohArgs;
use shmframe_bridge::wire::{CodecId, WireHeader, HEADER_LEN};
use shmframe_bridge::{pattern, Codec, Outgoing, Stamp};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use zenoh::qos::CongestionControl;
use zenoh::Wait;

#[derive(Parser)]
#[command(
    name = "shmframe-bridge-probe",
    about = "Test and benchmark helper for shmframe-bridge"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The local stream a pattern source writes or a check reads, and its frames.
#[derive(Args)]
struct StreamArgs {
    #[arg(long)]
    name: String,
    #[arg(long, default_value = "640x360", value_parser = parse_size)]
    size: (u32, u32),
    #[arg(long, default_value = "rgba8", value_parser = parse_format)]
    format: PixelFormat,
}

impl StreamArgs {
    fn meta(&self) -> FrameMeta {
        FrameMeta::packed(self.size.0, self.size.1, self.format)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Publish the test pattern (or frames of a raw RGBA file) into a local stream.
    Source {
        #[command(flatten)]
        stream: StreamArgs,
        /// Frames per second (0: as fast as possible).
        #[arg(long, default_value_t = 30.0)]
        fps: f64,
        /// Stop after this many frames (0: never).
        #[arg(long, default_value_t = 0)]
        frames: u64,
        /// Publish frame 0 once and hold it.
        #[arg(long)]
        still: bool,
        /// Loop over the RGBA frames of this file instead of the pattern.
        #[arg(long)]
        raw: Option<PathBuf>,
        /// Slots of the stream (more let an in-order reader fall further behind).
        #[arg(long, default_value_t = 2)]
        slots: usize,
    },
    /// Read a local stream and check it carries the test pattern.
    Check {
        #[command(flatten)]
        stream: StreamArgs,
        /// Distinct pattern frames to see before succeeding.
        #[arg(long, default_value_t = 5)]
        min_frames: usize,
        /// Largest mean absolute error per byte accepted (0: exact).
        #[arg(long, default_value_t = 0.0)]
        max_mae: f64,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 20.0)]
        timeout: f64,
    },
    /// Encode and decode every frame of a raw RGBA file with each codec; prints
    /// size ratios and median times as JSON lines.
    Codecs {
        #[arg(long)]
        raw: PathBuf,
        #[arg(long, default_value = "1920x1080", value_parser = parse_size)]
        size: (u32, u32),
        #[arg(long, default_value = "raw,lz4,qoi,jpeg:85")]
        codecs: String,
    },
    /// Put malformed messages on a key; prints how many were sent.
    Hostile {
        #[arg(long)]
        key: String,
        #[command(flatten)]
        zenoh: ZenohArgs,
        /// Seconds to wait for a subscriber before sending.
        #[arg(long, default_value_t = 20.0)]
        timeout: f64,
    },
    /// Put messages of plain bytes with Zenoh alone (stamped for latency).
    FloorPub {
        #[arg(long)]
        key: String,
        #[arg(long, default_value_t = 1920 * 1080 * 4)]
        bytes: usize,
        /// Messages per second (0: as fast as possible).
        #[arg(long, default_value_t = 0.0)]
        fps: f64,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[command(flatten)]
        zenoh: ZenohArgs,
    },
    /// Take messages of plain bytes; prints count, rate and latency as JSON.
    FloorSub {
        #[arg(long)]
        key: String,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[command(flatten)]
        zenoh: ZenohArgs,
    },
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text.split_once('x').ok_or("expected WIDTHxHEIGHT")?;
    let w = w.parse().map_err(|_| "bad width")?;
    let h = h.parse().map_err(|_| "bad height")?;
    Ok((w, h))
}

fn parse_format(text: &str) -> Result<PixelFormat, String> {
    PixelFormat::ALL
        .into_iter()
        .find(|f| f.name() == text)
        .ok_or_else(|| format!("unknown format `{text}`"))
}

type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// Set by SIGINT or SIGTERM: `source` then exits cleanly, removing its stream.
static STOP: AtomicBool = AtomicBool::new(false);

fn main() -> ExitCode {
    if let Err(e) = ctrlc::set_handler(|| STOP.store(true, Ordering::Relaxed)) {
        eprintln!("shmframe-bridge-probe: cannot install the signal handler: {e}");
        return ExitCode::FAILURE;
    }
    match run(Cli::parse().command) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("shmframe-bridge-probe: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<bool> {
    match command {
        Command::Source {
            stream,
            fps,
            frames,
            still,
            raw,
            slots,
        } => source(
            &stream.name,
            stream.meta(),
            (fps, frames, still),
            raw,
            slots,
        ),
        Command::Check {
            stream,
            min_frames,
            max_mae,
            timeout,
        } => check(
            &stream.name,
            stream.meta(),
            min_frames,
            max_mae,
            Duration::from_secs_f64(timeout),
        ),
        Command::Codecs { raw, size, codecs } => codec_table(
            &raw,
            FrameMeta::packed(size.0, size.1, PixelFormat::Rgba8),
            &codecs,
        ),
        Command::Hostile {
            key,
            zenoh,
            timeout,
        } => hostile(&key, &zenoh, Duration::from_secs_f64(timeout)),
        Command::FloorPub {
            key,
            bytes,
            fps,
            seconds,
            zenoh,
        } => floor_pub(&key, bytes, fps, seconds, &zenoh),
        Command::FloorSub {
            key,
            seconds,
            zenoh,
        } => floor_sub(&key, seconds, &zenoh),
    }
}

fn source(
    name: &str,
    meta: FrameMeta,
    (fps, frames, still): (f64, u64, bool),
    raw: Option<PathBuf>,
    slots: usize,
) -> Result<bool> {
    let len = meta.checked_len()?;
    let options = WriterOptions {
        slots,
        slot_capacity: len,
        ..WriterOptions::default()
    };
    let mut writer = Writer::create(name, &options)?;
    let file = match raw {
        Some(path) => Some(std::fs::read(path)?),
        None => None,
    };
    let file_frames = file.as_ref().map_or(0, |f| f.len() / len);
    if file.is_some() && file_frames == 0 {
        return Err("the raw file holds no whole frame of that size".into());
    }
    let mut pixels = Vec::new();
    let period = (fps > 0.0).then(|| Duration::from_secs_f64(1.0 / fps));
    let start = Instant::now();
    let mut k = 0u64;
    while !STOP.load(Ordering::Relaxed) {
        let index = if still { 0 } else { k + 1 };
        let frame: &[u8] = match &file {
            Some(f) => {
                let i = (k as usize) % file_frames;
                &f[i * len..(i + 1) * len]
            }
            None => {
                pattern::fill(&meta, index, &mut pixels);
                &pixels
            }
        };
        writer.publish(&meta, frame)?;
        k += 1;
        if still || (frames > 0 && k >= frames) {
            break;
        }
        if let Some(period) = period {
            let due = start + period.mul_f64(k as f64);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
    }
    // Hold the stream open (a clean exit removes it) until stopped.
    while !STOP.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(true)
}

fn check(
    name: &str,
    meta: FrameMeta,
    min_frames: usize,
    max_mae: f64,
    timeout: Duration,
) -> Result<bool> {
    let deadline = Instant::now() + timeout;
    let mut reader = loop {
        match Reader::open(name) {
            Ok(r) => break r,
            Err(e) if Instant::now() >= deadline => return Err(e.into()),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let (mut buf, mut expected) = (Vec::new(), Vec::new());
    let mut seen = BTreeSet::new();
    let mut worst = 0.0f64;
    let mut other = 0u64;
    // Frames whose number differs from their index in this stream.
    let mut renumbered = 0u64;
    while seen.len() < min_frames && Instant::now() < deadline {
        let Some(info) = reader.wait_latest(&mut buf, Duration::from_millis(100))? else {
            continue;
        };
        if info.meta != meta {
            // Another size or format (an older frame, before a restart): not
            // the pattern asked for; only frames that are count.
            other += 1;
            continue;
        }
        let index = pattern::read_index(&meta, &buf).ok_or("frame too small for the pattern")?;
        // A moving source draws its frame number: an importer must keep it.
        if index != 0 && info.number != index {
            println!(
                "{{\"ok\":false,\"error\":\"frame number {} is not the sender's {index}\"}}",
                info.number
            );
            return Ok(false);
        }
        if info.number != info.index {
            renumbered += 1;
        }
        pattern::fill(&meta, index, &mut expected);
        let mae = pattern::mean_abs_error(&buf, &expected);
        let exact = buf == expected;
        if (max_mae == 0.0 && !exact) || mae > max_mae {
            println!("{{\"ok\":false,\"error\":\"frame index {index}: mean absolute error {mae:.3} over {max_mae}\"}}");
            return Ok(false);
        }
        worst = worst.max(mae);
        seen.insert(index);
    }
    let ok = seen.len() >= min_frames;
    println!(
        "{{\"ok\":{ok},\"distinct_frames\":{},\"worst_mae\":{worst:.4},\"first\":{},\"last\":{},\"other_frames\":{other},\"renumbered\":{renumbered}}}",
        seen.len(),
        seen.first().copied().unwrap_or(0),
        seen.last().copied().unwrap_or(0)
    );
    Ok(ok)
}

fn codec_table(raw: &PathBuf, meta: FrameMeta, codecs: &str) -> Result<bool> {
    let file = std::fs::read(raw)?;
    let len = meta.checked_len()?;
    let frames: Vec<&[u8]> = file.chunks_exact(len).collect();
    if frames.is_empty() {
        return Err("the raw file holds no whole frame of that size".into());
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for name in codecs.split(',') {
        let codec = Codec::parse(name)?;
        let (mut encode_ms, mut decode_ms) = (Vec::new(), Vec::new());
        let (mut wire, mut worst_mae) = (0u64, 0.0f64);
        let mut out = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            let info = shmframe::FrameInfo {
                number: i as u64 + 1,
                timestamp_ns: 0,
                index: i as u64 + 1,
                published_ns: 0,
                meta,
                len,
                missed: 0,
            };
            let mut pixels = frame.to_vec();
            let stamp = Stamp {
                source_id: 1,
                seq: i as u64 + 1,
                sent_unix_ns: 0,
            };
            let t = Instant::now();
            let message = Outgoing::encode(codec, &info, &mut pixels, stamp)?.to_vec();
            encode_ms.push(t.elapsed().as_secs_f64() * 1e3);
            wire += message.len() as u64;
            let t = Instant::now();
            shmframe_bridge::decode_message(&message, &Default::default(), &mut out)?;
            decode_ms.push(t.elapsed().as_secs_f64() * 1e3);
            worst_mae = worst_mae.max(pattern::mean_abs_error(frame, &out));
        }
        let raw_bytes = (frames.len() * len) as f64;
        println!(
            "{{\"codec\":\"{name}\",\"frames\":{},\"ratio\":{:.3},\"encode_ms_p50\":{:.2},\"decode_ms_p50\":{:.2},\"worst_mae\":{worst_mae:.3}}}",
            frames.len(),
            raw_bytes / wire as f64,
            median(encode_ms),
            median(decode_ms)
        );
    }
    Ok(true)
}

/// The malformed messages `hostile` sends: garbage, truncations, lies about sizes.
fn hostile_messages() -> Vec<Vec<u8>> {
    let meta = FrameMeta::packed(64, 32, PixelFormat::Rgba8);
    let mut pixels = Vec::new();
    pattern::fill(&meta, 1, &mut pixels);
    let info = shmframe::FrameInfo {
        number: 1,
        timestamp_ns: 0,
        index: 1,
        published_ns: 0,
        meta,
        len: pixels.len(),
        missed: 0,
    };
    let stamp = Stamp {
        source_id: 0xbad,
        seq: 1,
        sent_unix_ns: 0,
    };
    let good = Outgoing::encode(Codec::Lz4, &info, &mut pixels, stamp)
        .expect("encode")
        .to_vec();
    let header = WireHeader::parse(&good, &Default::default())
        .expect("own header")
        .0;
    let with = |h: WireHeader, payload: &[u8]| {
        let mut m = h.encode().to_vec();
        m.extend_from_slice(payload);
        m
    };
    let mut huge = header;
    (huge.width, huge.height, huge.stride) = (65536, 65536, 65536 * 4);
    huge.frame_len = 65536 * 65536 * 4;
    let mut lying_payload = header;
    lying_payload.payload_len = u64::MAX;
    let mut bomb = header;
    (bomb.width, bomb.height, bomb.stride) = (8192, 8192, 8192 * 4);
    bomb.frame_len = 8192 * 8192 * 4;
    let mut raw_short = header;
    raw_short.codec = CodecId::Raw;
    let mut bad_version = good.clone();
    bad_version[4] = 9;
    let mut corrupt_payload = good.clone();
    let n = corrupt_payload.len();
    corrupt_payload[HEADER_LEN..n].fill(0xff);
    vec![
        b"garbage: not a bridge message at all".to_vec(),
        Vec::new(),
        good[..HEADER_LEN - 10].to_vec(),
        good[..good.len() - 1].to_vec(),
        bad_version,
        with(huge, &good[HEADER_LEN..]),
        with(lying_payload, &good[HEADER_LEN..]),
        with(bomb, &good[HEADER_LEN..]),
        with(raw_short, &good[HEADER_LEN..]),
        corrupt_payload,
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect(),
    ]
}

fn hostile(key: &str, zenoh: &ZenohArgs, timeout: Duration) -> Result<bool> {
    let session = zenoh::open(zenoh.to_config()?).wait()?;
    let publisher = session
        .declare_publisher(key.to_string())
        .congestion_control(CongestionControl::Block)
        .wait()?;
    let deadline = Instant::now() + timeout;
    while !publisher.matching_status().wait()?.matching() {
        if Instant::now() >= deadline {
            return Err("no subscriber appeared on the key".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let messages = hostile_messages();
    for m in &messages {
        publisher.put(m.clone()).wait()?;
        // Paced: an importer keeps only the newest message it has not taken yet.
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let them leave before the session closes.
    std::thread::sleep(Duration::from_millis(500));
    println!("{{\"sent\":{}}}", messages.len());
    Ok(true)
}

fn floor_pub(key: &str, bytes: usize, fps: f64, seconds: f64, zenoh: &ZenohArgs) -> Result<bool> {
    let session = zenoh::open(zenoh.to_config()?).wait()?;
    let publisher = session
        .declare_publisher(key.to_string())
        .congestion_control(CongestionControl::Drop)
        .wait()?;
    let template: Vec<u8> = (0..bytes.max(16)).map(|i| (i % 251) as u8).collect();
    let period = (fps > 0.0).then(|| Duration::from_secs_f64(1.0 / fps));
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        // Like the exporter: the bytes copied into a fresh buffer Zenoh owns.
        let mut message = template.clone();
        message[..8].copy_from_slice(&shmframe::monotonic_ns().to_le_bytes());
        publisher.put(message).wait()?;
        sent += 1;
        if let Some(period) = period {
            let due = start + period.mul_f64(sent as f64);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
    }
    println!("{{\"sent\":{sent}}}");
    Ok(true)
}

fn floor_sub(key: &str, seconds: f64, zenoh: &ZenohArgs) -> Result<bool> {
    let session = zenoh::open(zenoh.to_config()?).wait()?;
    let subscriber = session
        .declare_subscriber(key.to_string())
        .with(zenoh::handlers::RingChannel::new(1))
        .wait()?;
    let mut latencies = Vec::new();
    let mut first: Option<Instant> = None;
    let mut received = 0u64;
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    while Instant::now() < end {
        let Some(sample) = subscriber.recv_timeout(Duration::from_millis(100))? else {
            continue;
        };
        // The same work as the importer's receive: one contiguous buffer.
        let bytes = sample.payload().to_bytes();
        if bytes.len() < 8 {
            continue;
        }
        let sent = u64::from_le_bytes(bytes[..8].try_into()?);
        latencies.push(shmframe::monotonic_ns().saturating_sub(sent));
        first.get_or_insert_with(Instant::now);
        received += 1;
    }
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * p) as usize)
            .copied()
            .unwrap_or(0)
    };
    let secs = first.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let fps = if secs > 0.0 {
        received.saturating_sub(1) as f64 / secs
    } else {
        0.0
    };
    println!(
        "{{\"received\":{received},\"fps\":{fps:.2},\"latency_ns\":{{\"p50\":{},\"p90\":{},\"p99\":{}}}}}",
        pct(0.5),
        pct(0.9),
        pct(0.99)
    );
    Ok(received > 0)
}
