//! iceoryx2 publish-subscribe with the same payloads (`[u8]` slices, the
//! timestamp in the first 8 bytes). A polling subscriber spins on
//! `receive`; a sleeping one waits on a listener of an event service that the
//! publisher notifies after each send, the pattern iceoryx2's examples use.
//! A subscriber copies each sample's payload out, or, in the zero-copy
//! latency cases, uses it in place: it reads the stamp and the last byte and
//! lets the sample go, as a shmframe reader holding a frame does.

use iceoryx2::port::listener::Listener;
use iceoryx2::port::notifier::Notifier;
use iceoryx2::port::publisher::Publisher;
use iceoryx2::port::subscriber::Subscriber;
use iceoryx2::prelude::*;
use shmframe::monotonic_ns;
use shmframe_measure::child::{spawn, ChildArgs, RoleChild};
use shmframe_measure::frames::SourceFrames;
use shmframe_measure::latency::{pause, stamp_latencies, wait_ack};
use shmframe_measure::shm::{SharedBlock, STOP};
use shmframe_measure::throughput::{count_frames, timed_from, Received};
use shmframe_measure::writer_rate::{clocked, count_reads, stop_readers};
use shmframe_measure::{affinity::pin, unique_name, BenchResult, Cpus, RateRun, Timed, Wake};
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::time::Duration;

const ROLE_LATENCY: &str = "iox-latency";
const ROLE_LATENCY_ZERO_COPY: &str = "iox-latency-zero-copy";
const ROLE_THROUGHPUT: &str = "iox-throughput";
const ROLE_RATE: &str = "iox-rate";

/// Subscriber buffer depth (like a small ring of slots).
const BUFFER: usize = 4;

fn err(what: &str, e: impl std::fmt::Debug) -> String {
    format!("iceoryx2 {what}: {e:?}")
}

type FramePublisher = Publisher<ipc::Service, [u8], ()>;
type FrameSubscriber = Subscriber<ipc::Service, [u8], ()>;

/// One side's node and the two services: the frames and their wake-ups.
struct Endpoint {
    /// Kept alive for as long as the ports: dropping the node removes its resources.
    _node: Node<ipc::Service>,
    frames: iceoryx2::service::port_factory::publish_subscribe::PortFactory<ipc::Service, [u8], ()>,
    events: iceoryx2::service::port_factory::event::PortFactory<ipc::Service>,
}

impl Endpoint {
    fn open(name: &str, subscribers: usize) -> BenchResult<Endpoint> {
        set_log_level(LogLevel::Error);
        let node = NodeBuilder::new()
            .signal_handling_mode(SignalHandlingMode::Disabled)
            .create::<ipc::Service>()
            .map_err(|e| err("node", e))?;
        let frames_name: ServiceName = format!("{name}/frames")
            .as_str()
            .try_into()
            .map_err(|e| err("name", e))?;
        let events_name: ServiceName = format!("{name}/events")
            .as_str()
            .try_into()
            .map_err(|e| err("name", e))?;
        let frames = node
            .service_builder(&frames_name)
            .publish_subscribe::<[u8]>()
            .max_publishers(1)
            .max_subscribers(subscribers.max(1))
            .subscriber_max_buffer_size(BUFFER)
            .subscriber_max_borrowed_samples(1)
            .history_size(0)
            .enable_safe_overflow(true)
            .open_or_create()
            .map_err(|e| err("publish-subscribe service", e))?;
        let events = node
            .service_builder(&events_name)
            .event()
            .max_notifiers(1)
            .max_listeners(subscribers.max(1))
            .open_or_create()
            .map_err(|e| err("event service", e))?;
        Ok(Endpoint {
            _node: node,
            frames,
            events,
        })
    }

    fn publisher(&self, len: usize) -> BenchResult<(FramePublisher, Notifier<ipc::Service>)> {
        let publisher = self
            .frames
            .publisher_builder()
            .initial_max_slice_len(len)
            .max_loaned_samples(1)
            .create()
            .map_err(|e| err("publisher", e))?;
        let notifier = self
            .events
            .notifier_builder()
            .create()
            .map_err(|e| err("notifier", e))?;
        Ok((publisher, notifier))
    }

    fn subscriber(&self) -> BenchResult<(FrameSubscriber, Listener<ipc::Service>)> {
        let subscriber = self
            .frames
            .subscriber_builder()
            .buffer_size(BUFFER)
            .create()
            .map_err(|e| err("subscriber", e))?;
        let listener = self
            .events
            .listener_builder()
            .create()
            .map_err(|e| err("listener", e))?;
        Ok((subscriber, listener))
    }
}

/// When a sample's stamp is read: before the frame is copied into it (the
/// latency cases, as shmframe's writer stamps them), or once it is in, just
/// before the send (the zero-copy cases).
#[derive(Clone, Copy)]
enum Stamp {
    BeforeCopy,
    AtSend,
}

/// Loans a sample, copies the frame in, stamps it and sends it; notifies sleepers if `notify`.
fn send(
    publisher: &FramePublisher,
    notifier: &Notifier<ipc::Service>,
    notify: bool,
    frame: &[u8],
    stamp: Stamp,
) -> BenchResult<()> {
    let before_copy = monotonic_ns();
    let sample = publisher
        .loan_slice_uninit(frame.len())
        .map_err(|e| err("loan", e))?;
    let mut sample = sample.write_from_slice(frame);
    let stamp = match stamp {
        Stamp::BeforeCopy => before_copy,
        Stamp::AtSend => monotonic_ns(),
    };
    sample.payload_mut()[..8].copy_from_slice(&stamp.to_le_bytes());
    sample.send().map_err(|e| err("send", e))?;
    if notify {
        notifier.notify().map_err(|e| err("notify", e))?;
    }
    Ok(())
}

/// The stamp in a payload's first 8 bytes.
fn stamp_of(payload: &[u8]) -> u64 {
    u64::from_le_bytes(payload[..8].try_into().expect("payloads hold 8 bytes"))
}

/// Copies the payload into `buf`; returns its stamp.
fn copy_out(buf: &mut [u8]) -> impl FnMut(&[u8]) -> u64 + '_ {
    |payload| {
        buf.copy_from_slice(payload);
        stamp_of(buf)
    }
}

/// Uses the payload in place: its stamp and its last byte.
fn touch(payload: &[u8]) -> u64 {
    std::hint::black_box(payload[payload.len() - 1]);
    stamp_of(payload)
}

/// Receives the next sample, polling or sleeping, and hands its payload to
/// `take` (which returns its stamp) before letting it go; `None` once `stop()` holds.
fn receive(
    subscriber: &FrameSubscriber,
    listener: &Listener<ipc::Service>,
    wake: Wake,
    stop: impl Fn() -> bool,
    mut take: impl FnMut(&[u8]) -> u64,
) -> BenchResult<Option<u64>> {
    loop {
        if let Some(sample) = subscriber.receive().map_err(|e| err("receive", e))? {
            return Ok(Some(take(sample.payload())));
        }
        if stop() {
            return Ok(None);
        }
        match wake {
            Wake::Poll => std::hint::spin_loop(),
            Wake::Sleep => {
                listener
                    .timed_wait(|_| {}, Duration::from_millis(100))
                    .map_err(|e| err("wait", e))?;
            }
        }
    }
}

fn start(
    role: &str,
    count: usize,
    cpus: Cpus,
    ctl: &SharedBlock,
    mut args: Vec<(&'static str, String)>,
) -> BenchResult<(String, Vec<RoleChild>)> {
    let name = unique_name("iox");
    args.push(("CTL", ctl.path_string()));
    args.push(("SERVICE", name.clone()));
    args.push(("SUBS", count.to_string()));
    let children = (0..count)
        .map(|_| spawn(role, cpus.reader, &args))
        .collect::<BenchResult<Vec<_>>>()?;
    Ok((name, children))
}

fn attach(args: &ChildArgs) -> BenchResult<(SharedBlock, Endpoint, Vec<u8>)> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let endpoint = Endpoint::open(&args.get::<String>("SERVICE")?, args.get("SUBS")?)?;
    let buf = vec![0u8; args.get("LEN")?];
    Ok((ctl, endpoint, buf))
}

/// Latency samples (ns) of `len`-byte frames.
pub fn latency(len: usize, wake: Wake, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    latency_as(ROLE_LATENCY, Stamp::BeforeCopy, (len, wake, cpus, samples))
}

/// Zero-copy case: from the send of a sample already written to a sleeping
/// subscriber holding it (it reads the stamp and the last byte in place).
pub fn latency_zero_copy(
    len: usize,
    wake: Wake,
    cpus: Cpus,
    samples: usize,
) -> BenchResult<Vec<u64>> {
    latency_as(
        ROLE_LATENCY_ZERO_COPY,
        Stamp::AtSend,
        (len, wake, cpus, samples),
    )
}

/// The copy row beside [`latency_zero_copy`]: timed the same way, the
/// subscriber copies the payload out.
pub fn latency_copy_at_send(
    len: usize,
    wake: Wake,
    cpus: Cpus,
    samples: usize,
) -> BenchResult<Vec<u64>> {
    latency_as(ROLE_LATENCY, Stamp::AtSend, (len, wake, cpus, samples))
}

/// Latency samples with a subscriber child of `role`, stamped at `stamp`.
fn latency_as(
    role: &str,
    stamp: Stamp,
    (len, wake, cpus, samples): (usize, Wake, Cpus, usize),
) -> BenchResult<Vec<u64>> {
    let _pinned = pin(cpus.writer)?;
    let ctl = SharedBlock::create(0)?;
    let args = shmframe_measure::latency::child_args(&ctl, samples, len, wake);
    let (name, mut children) = start(role, 1, cpus, &ctl, args)?;
    let endpoint = Endpoint::open(&name, 1)?;
    let (publisher, notifier) = endpoint.publisher(len)?;
    ctl.wait_ready(1)?;
    let source = SourceFrames::new(len);
    for i in 1..=samples as u64 {
        pause(wake);
        send(
            &publisher,
            &notifier,
            wake == Wake::Sleep,
            source.get(i),
            stamp,
        )?;
        wait_ack(&ctl, i, wake)?;
    }
    let out = children.remove(0).finish();
    drop((publisher, notifier, endpoint));
    out
}

fn latency_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    latency_subscriber(args, false)
}

fn zero_copy_latency_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    latency_subscriber(args, true)
}

/// A latency subscriber that copies each payload out, or uses it in place.
fn latency_subscriber(args: &ChildArgs, in_place: bool) -> BenchResult<Vec<u64>> {
    let (ctl, endpoint, mut buf) = attach(args)?;
    let (subscriber, listener) = endpoint.subscriber()?;
    let samples: usize = args.get("N")?;
    let wake = Wake::parse(&args.get::<String>("WAKE")?)?;
    ctl.mark_ready();
    stamp_latencies(&ctl, samples, |_| {
        let stamp = if in_place {
            receive(&subscriber, &listener, wake, || false, touch)?
        } else {
            receive(&subscriber, &listener, wake, || false, copy_out(&mut buf))?
        };
        Ok(Some(stamp.ok_or("stopped")?))
    })
}

/// End-to-end throughput: the publisher sends as fast as it can (dropping the
/// oldest samples a slow subscriber has not taken), the subscriber sleeps on
/// the event service and copies out each sample it receives.
pub fn throughput(len: usize, cpus: Cpus, frames: u64, budget: Duration) -> BenchResult<Timed> {
    let _pinned = pin(cpus.writer)?;
    let ctl = SharedBlock::create(0)?;
    let args = shmframe_measure::throughput::child_args(&ctl, frames, len, budget);
    let (name, mut children) = start(ROLE_THROUGHPUT, 1, cpus, &ctl, args)?;
    let endpoint = Endpoint::open(&name, 1)?;
    let (publisher, notifier) = endpoint.publisher(len)?;
    ctl.wait_ready(1)?;
    let source = SourceFrames::new(len);
    let mut i = 0u64;
    while ctl.line(STOP).load(Acquire) == 0 {
        send(
            &publisher,
            &notifier,
            true,
            source.get(i),
            Stamp::BeforeCopy,
        )?;
        i += 1;
        if i % 64 == 0 && children[0].exited() {
            break;
        }
    }
    timed_from(&children.remove(0).finish()?)
}

fn throughput_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let (ctl, endpoint, mut buf) = attach(args)?;
    let (subscriber, listener) = endpoint.subscriber()?;
    ctl.mark_ready();
    count_frames(&ctl, args, || {
        Ok(
            match receive(
                &subscriber,
                &listener,
                Wake::Sleep,
                || false,
                copy_out(&mut buf),
            )? {
                Some(_) => Received::Frame,
                None => Received::Ended,
            },
        )
    })
}

/// The publisher's rate with `readers` subscribers copying out every sample they receive.
pub fn writer_rate(run: RateRun) -> BenchResult<Timed> {
    let _pinned = pin(run.cpus.writer)?;
    let ctl = SharedBlock::create(0)?;
    let (name, children) = start(
        ROLE_RATE,
        run.readers,
        run.cpus,
        &ctl,
        vec![("LEN", run.len.to_string())],
    )?;
    let endpoint = Endpoint::open(&name, run.readers)?;
    let (publisher, notifier) = endpoint.publisher(run.len)?;
    ctl.wait_ready(run.readers as u64)?;
    let source = SourceFrames::new(run.len);
    let timed = clocked(run.frames, run.budget, |i| {
        send(
            &publisher,
            &notifier,
            true,
            source.get(i),
            Stamp::BeforeCopy,
        )
    })?;
    let frames_read = stop_readers(&ctl, children)?;
    Ok(timed.read_by(run.readers, frames_read))
}

fn rate_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let (ctl, endpoint, mut buf) = attach(args)?;
    let (subscriber, listener) = endpoint.subscriber()?;
    ctl.mark_ready();
    let stop = || ctl.line(STOP).load(Relaxed) != 0;
    count_reads(|| {
        let got = receive(
            &subscriber,
            &listener,
            Wake::Sleep,
            stop,
            copy_out(&mut buf),
        )?;
        Ok(got.is_some())
    })
}

/// This peer's reader children, by role.
pub const READERS: [(&str, crate::RoleFn); 4] = [
    (ROLE_LATENCY, latency_reader),
    (ROLE_LATENCY_ZERO_COPY, zero_copy_latency_reader),
    (ROLE_THROUGHPUT, throughput_reader),
    (ROLE_RATE, rate_reader),
];

/// Removes what iceoryx2 leaves behind once its last node is gone: its
/// directories under /tmp/iceoryx2 (default configuration) and its global
/// management segment in /dev/shm. Does nothing while any iceoryx2 node or
/// service on this machine still exists.
pub fn cleanup() {
    let root = std::path::Path::new("/tmp/iceoryx2");
    let empty = |dir: &str| {
        std::fs::read_dir(root.join(dir)).map_or(true, |mut entries| entries.next().is_none())
    };
    if !root.exists() || !empty("nodes") || !empty("services") {
        return;
    }
    let _ = std::fs::remove_dir(root.join("nodes"));
    let _ = std::fs::remove_dir(root.join("services"));
    let _ = std::fs::remove_dir(root);
    if let Ok(entries) = std::fs::read_dir("/dev/shm") {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("iox2_") && name.ends_with(".global_mgmt") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}
