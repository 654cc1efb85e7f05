//! The frames through a Unix domain stream socket: each frame is an 8-byte
//! timestamp and the pixels, written with one `writev` where the kernel takes
//! it whole; the reader reads them back into its buffer.

use shmframe::monotonic_ns;
use shmframe_measure::child::{spawn, ChildArgs, RoleChild};
use shmframe_measure::frames::SourceFrames;
use shmframe_measure::latency::{pause, stamp_latencies, wait_ack};
use shmframe_measure::shm::{SharedBlock, STOP};
use shmframe_measure::throughput::{count_frames, timed_from, Received};
use shmframe_measure::writer_rate::{clocked, collect_reads, count_reads};
use shmframe_measure::{affinity::pin, unique_name, BenchResult, Cpus, RateRun, Timed, Wake};
use std::io::{ErrorKind, IoSlice, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::Ordering::Acquire;
use std::time::Duration;

const ROLE_LATENCY: &str = "socket-latency";
const ROLE_THROUGHPUT: &str = "socket-throughput";
const ROLE_RATE: &str = "socket-rate";

/// A listening socket under /tmp, removed on drop.
struct Listener {
    listener: UnixListener,
    path: PathBuf,
}

impl Listener {
    fn bind() -> BenchResult<Listener> {
        let path = std::env::temp_dir().join(format!("{}.sock", unique_name("sock")));
        let listener =
            UnixListener::bind(&path).map_err(|e| format!("binding {}: {e}", path.display()))?;
        Ok(Listener { listener, path })
    }

    fn accept(&self) -> BenchResult<UnixStream> {
        let (stream, _) = self.listener.accept().map_err(|e| format!("accept: {e}"))?;
        Ok(stream)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Writes one frame: the stamp, then the pixels.
fn send(stream: &mut UnixStream, stamp: u64, frame: &[u8]) -> std::io::Result<()> {
    let head = stamp.to_le_bytes();
    let mut sent = stream.write_vectored(&[IoSlice::new(&head), IoSlice::new(frame)])?;
    if sent < head.len() {
        stream.write_all(&head[sent..])?;
        sent = head.len();
    }
    stream.write_all(&frame[sent - head.len()..])
}

/// Reads exactly `buf.len()` bytes, spinning on a non-blocking socket if `spin`.
fn recv_exact(stream: &mut UnixStream, buf: &mut [u8], spin: bool) -> std::io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if spin && e.kind() == ErrorKind::WouldBlock => std::hint::spin_loop(),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads one frame into `buf`; returns its stamp.
fn recv(stream: &mut UnixStream, buf: &mut [u8], spin: bool) -> std::io::Result<u64> {
    let mut head = [0u8; 8];
    recv_exact(stream, &mut head, spin)?;
    recv_exact(stream, buf, spin)?;
    Ok(u64::from_le_bytes(head))
}

fn connect(args: &ChildArgs) -> BenchResult<(SharedBlock, UnixStream, Vec<u8>)> {
    let ctl = SharedBlock::open(&args.get::<String>("CTL")?)?;
    let path: String = args.get("SOCK")?;
    let stream = UnixStream::connect(&path).map_err(|e| format!("connecting to {path}: {e}"))?;
    let buf = vec![0u8; args.get("LEN")?];
    ctl.mark_ready();
    Ok((ctl, stream, buf))
}

fn start(
    role: &str,
    count: usize,
    cpus: Cpus,
    ctl: &SharedBlock,
    mut args: Vec<(&'static str, String)>,
) -> BenchResult<(Listener, Vec<RoleChild>, Vec<UnixStream>)> {
    let listener = Listener::bind()?;
    args.push(("CTL", ctl.path_string()));
    args.push(("SOCK", listener.path.display().to_string()));
    let children = (0..count)
        .map(|_| spawn(role, cpus.reader, &args))
        .collect::<BenchResult<Vec<_>>>()?;
    let streams = (0..count)
        .map(|_| listener.accept())
        .collect::<BenchResult<Vec<_>>>()?;
    ctl.wait_ready(count as u64)?;
    Ok((listener, children, streams))
}

/// Latency samples (ns) of `len`-byte frames.
pub fn latency(len: usize, wake: Wake, cpus: Cpus, samples: usize) -> BenchResult<Vec<u64>> {
    let _pinned = pin(cpus.writer)?;
    let ctl = SharedBlock::create(0)?;
    let args = shmframe_measure::latency::child_args(&ctl, samples, len, wake);
    let (_listener, mut children, mut streams) = start(ROLE_LATENCY, 1, cpus, &ctl, args)?;
    let source = SourceFrames::new(len);
    for i in 1..=samples as u64 {
        pause(wake);
        send(&mut streams[0], monotonic_ns(), source.get(i)).map_err(|e| format!("send: {e}"))?;
        wait_ack(&ctl, i, wake)?;
    }
    children.remove(0).finish()
}

fn latency_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let (ctl, mut stream, mut buf) = connect(args)?;
    let samples: usize = args.get("N")?;
    let spin = Wake::parse(&args.get::<String>("WAKE")?)? == Wake::Poll;
    stream.set_nonblocking(spin).map_err(|e| e.to_string())?;
    stamp_latencies(&ctl, samples, |_| {
        let stamp = recv(&mut stream, &mut buf, spin).map_err(|e| format!("recv: {e}"))?;
        Ok(Some(stamp))
    })
}

/// End-to-end throughput; the socket is lossless, so the writer is paced by the reader.
pub fn throughput(len: usize, cpus: Cpus, frames: u64, budget: Duration) -> BenchResult<Timed> {
    let _pinned = pin(cpus.writer)?;
    let ctl = SharedBlock::create(0)?;
    let args = shmframe_measure::throughput::child_args(&ctl, frames, len, budget);
    let (_listener, mut children, mut streams) = start(ROLE_THROUGHPUT, 1, cpus, &ctl, args)?;
    let source = SourceFrames::new(len);
    let mut i = 0;
    // The reader stops reading once it has its frames; the send then fails.
    while ctl.line(STOP).load(Acquire) == 0 {
        if send(&mut streams[0], monotonic_ns(), source.get(i)).is_err() {
            break;
        }
        i += 1;
    }
    timed_from(&children.remove(0).finish()?)
}

fn throughput_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let (ctl, mut stream, mut buf) = connect(args)?;
    count_frames(&ctl, args, || {
        recv(&mut stream, &mut buf, false).map_err(|e| format!("recv: {e}"))?;
        Ok(Received::Frame)
    })
}

/// The writer's rate sending every frame to each of `readers` sockets.
pub fn writer_rate(run: RateRun) -> BenchResult<Timed> {
    let _pinned = pin(run.cpus.writer)?;
    let ctl = SharedBlock::create(0)?;
    let args = vec![("LEN", run.len.to_string())];
    let (_listener, children, mut streams) = start(ROLE_RATE, run.readers, run.cpus, &ctl, args)?;
    let source = SourceFrames::new(run.len);
    let timed = clocked(run.frames, run.budget, |i| {
        for stream in &mut streams {
            send(stream, monotonic_ns(), source.get(i)).map_err(|e| format!("send: {e}"))?;
        }
        Ok(())
    })?;
    // Closing the sockets ends the readers.
    drop(streams);
    let frames_read = collect_reads(children)?;
    Ok(timed.read_by(run.readers, frames_read))
}

fn rate_reader(args: &ChildArgs) -> BenchResult<Vec<u64>> {
    let (_ctl, mut stream, mut buf) = connect(args)?;
    // Reads until the writer closes the socket.
    count_reads(|| Ok(recv(&mut stream, &mut buf, false).is_ok()))
}

/// This peer's reader children, by role.
pub const READERS: [(&str, crate::RoleFn); 3] = [
    (ROLE_LATENCY, latency_reader),
    (ROLE_THROUGHPUT, throughput_reader),
    (ROLE_RATE, rate_reader),
];
