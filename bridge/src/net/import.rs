//! `import`: messages from a Zenoh key, checked and republished into a local stream.

use super::report::Report;
use super::status::{Counters, StatusLine};
use super::POLL;
use crate::error::{Error, Result};
use crate::message::{decode_frame, Received};
use crate::wire::Limits;
use shmframe::{FrameOrigin, Writer, WriterOptions};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use zenoh::handlers::{FifoChannel, FifoChannelHandler, RingChannel, RingChannelHandler};
use zenoh::pubsub::Subscriber;
use zenoh::sample::Sample;
use zenoh::Wait;

/// Messages queued for an in-order (`--every`) importer.
const EVERY_QUEUE: usize = 8;
/// Most refusals printed per second; the rest are only counted.
const REFUSALS_PRINTED_PER_SECOND: u32 = 5;

/// What `import` does.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Zenoh key to subscribe to.
    pub key: String,
    /// Local stream to publish into.
    pub name: String,
    /// Slots of the local stream.
    pub slots: usize,
    /// Every message in order (a queue) rather than the latest only.
    pub every: bool,
    /// What a message may claim.
    pub limits: Limits,
    /// No status line.
    pub quiet: bool,
    /// Where to write the JSON report.
    pub report: Option<PathBuf>,
}

/// The subscriber: the latest message only, or a queue for `--every`.
enum Inbox {
    Latest(Subscriber<RingChannelHandler<Sample>>),
    Every(Subscriber<FifoChannelHandler<Sample>>),
}

impl Inbox {
    fn recv_timeout(&self, timeout: Duration) -> Result<Option<Sample>> {
        let got = match self {
            Inbox::Latest(s) => s.recv_timeout(timeout),
            Inbox::Every(s) => s.recv_timeout(timeout),
        };
        got.map_err(|e| Error::Zenoh(format!("the subscriber closed: {e}")))
    }
}

/// Imports until `stop` is set.
pub fn import(options: &ImportOptions, config: zenoh::Config, stop: &AtomicBool) -> Result<()> {
    let session = zenoh::open(config)
        .wait()
        .map_err(|e| Error::Zenoh(format!("cannot open a session: {e}")))?;
    let declare = session.declare_subscriber(options.key.clone());
    let subscribed = if options.every {
        declare
            .with(FifoChannel::new(EVERY_QUEUE))
            .wait()
            .map(Inbox::Every)
    } else {
        // A ring of one: a slow importer always takes the newest frame.
        declare.with(RingChannel::new(1)).wait().map(Inbox::Latest)
    };
    let inbox = subscribed
        .map_err(|e| Error::Zenoh(format!("cannot subscribe to `{}`: {e}", options.key)))?;

    let mut importer = Importer::new(options);
    while !stop.load(Ordering::Relaxed) {
        importer.report.tick(&importer.counters);
        match inbox.recv_timeout(POLL)? {
            Some(sample) => importer.receive(&sample.payload().to_bytes())?,
            None => importer.status.update(&importer.counters, 0, 0),
        }
    }
    importer.report.write(&importer.counters);
    Ok(())
}

/// The importer's state between messages.
struct Importer<'o> {
    options: &'o ImportOptions,
    writer: Option<Writer>,
    pixels: Vec<u8>,
    counters: Counters,
    status: StatusLine,
    report: Report,
    /// (source id, last message number, last frame number) of the current exporter run.
    source: Option<(u64, u64, u64)>,
    refusal_window: (Instant, u32),
}

impl<'o> Importer<'o> {
    fn new(options: &'o ImportOptions) -> Self {
        Importer {
            options,
            writer: None,
            pixels: Vec::new(),
            counters: Counters::default(),
            status: StatusLine::new(
                format!("import {} -> {}", options.key, options.name),
                options.quiet,
            ),
            report: Report::new(options.report.as_deref()),
            source: None,
            refusal_window: (Instant::now(), 0),
        }
    }

    /// Handles one message: refused and counted, or published locally.
    /// Only a failure of the local stream is an error.
    fn receive(&mut self, message: &[u8]) -> Result<()> {
        let mut buf = std::mem::take(&mut self.pixels);
        let result = self.receive_with(message, &mut buf);
        self.pixels = buf;
        result
    }

    /// `receive`, decoding into `buf` where the codec needs it.
    fn receive_with(&mut self, message: &[u8], buf: &mut Vec<u8>) -> Result<()> {
        let (received, pixels) = match decode_frame(message, &self.options.limits, buf) {
            Ok(frame) => frame,
            Err(e) => {
                self.refuse(e);
                return Ok(());
            }
        };
        let h = &received.header;
        if self
            .source
            .is_some_and(|(source, seq, _)| (source, seq) == (h.source_id, h.seq))
        {
            // The exporter's repeat of a message this importer already has.
            return Ok(());
        }
        // Count gaps within one exporter run before publishing.
        self.count_gaps(&received);
        self.publish(&received, pixels)?;
        let c = &mut self.counters;
        c.frames += 1;
        c.wire_bytes += message.len() as u64;
        c.frame_bytes += pixels.len() as u64;
        // Sender's publish to our publish. Meaningful where both share
        // CLOCK_MONOTONIC (one machine, namespaces); across hosts compare
        // the realtime `sent_unix_ns` with synchronized clocks instead.
        c.latencies
            .push(shmframe::monotonic_ns().saturating_sub(received.header.timestamp_ns));
        self.status.update(&self.counters, message.len() as u64, 1);
        Ok(())
    }

    fn refuse(&mut self, e: Error) {
        self.counters.refused += 1;
        let reason = e.to_string();
        let (since, printed) = &mut self.refusal_window;
        if since.elapsed() >= Duration::from_secs(1) {
            (*since, *printed) = (Instant::now(), 0);
        }
        if *printed < REFUSALS_PRINTED_PER_SECOND {
            *printed += 1;
            eprintln!("shmframe-bridge import: {reason}");
        }
        self.counters.last_problem = Some(reason);
    }

    fn count_gaps(&mut self, r: &Received) {
        let h = &r.header;
        if let Some((source, seq, number)) = self.source {
            if source == h.source_id && h.seq > seq {
                let lost = h.seq - seq - 1;
                self.counters.lost += lost;
                // Frame numbers the exporter skipped, beyond those lost on the way.
                let gap = h.frame_number.saturating_sub(number).saturating_sub(1);
                self.counters.skipped += gap.saturating_sub(lost);
            }
        }
        self.source = Some((h.source_id, h.seq, h.frame_number));
    }

    /// Publishes the decoded frame, creating the stream or growing its slots as needed.
    fn publish(&mut self, r: &Received, pixels: &[u8]) -> Result<()> {
        let len = pixels.len();
        let options = WriterOptions {
            slots: self.options.slots,
            slot_capacity: len,
            ..WriterOptions::default()
        };
        match &mut self.writer {
            Some(writer) if writer.slot_capacity() >= len => {}
            Some(writer) => writer.reconfigure(&options)?,
            None => self.writer = Some(Writer::create(&self.options.name, &options)?),
        }
        if let Some(writer) = &mut self.writer {
            // Local readers see the sender's number and timestamp, and the
            // time of this publish as the frame's `published_ns`.
            let origin = FrameOrigin {
                number: r.header.frame_number,
                timestamp_ns: r.header.timestamp_ns,
            };
            writer.publish_from(origin, &r.meta, pixels)?;
        }
        Ok(())
    }
}
