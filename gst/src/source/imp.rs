//! The source's implementation: properties, waiting for frames without
//! blocking a state change, frames held in place or copied, caps from each
//! frame, timestamps and QoS.

use super::held::HeldPixels;
use super::recycle::Recycler;
use super::{clock, origin, ReadMode};
use crate::{formats, planes, stream_name};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::prelude::*;
use gst_base::subclass::base_src::CreateSuccess;
use gst_base::subclass::prelude::*;
use shmframe::{Error, FrameInfo, FrameMeta, OwnedHeldFrame, Reader, ReaderOptions};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Duration;

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "shmframesrc",
        gst::DebugColorFlags::empty(),
        Some("shmframe stream source"),
    )
});

/// Longest wait between looks at the flushing flag: how soon a pipeline that
/// is stopping gets `create` back.
const WAKE_SLICE: Duration = Duration::from_millis(20);

/// Frames held in place at once unless the `holds` property says otherwise:
/// the engine's default for a reader.
const DEFAULT_HOLDS: u32 = 2;

#[derive(Debug, Clone)]
struct Settings {
    stream: Option<String>,
    mode: ReadMode,
    wait_for_writer: bool,
    eos_on_close: bool,
    zero_copy: bool,
    holds: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            stream: None,
            mode: ReadMode::Latest,
            wait_for_writer: true,
            eos_on_close: false,
            zero_copy: true,
            holds: DEFAULT_HOLDS,
        }
    }
}

/// What the element holds while running.
#[derive(Default)]
struct State {
    /// Checked stream name and the settings as they were at start.
    settings: Option<(String, Settings)>,
    reader: Option<Reader>,
    /// Frame number and segment creation time of the last frame produced, to count skipped ones.
    last: Option<(u64, u64)>,
    /// Frames produced and frames the stream had that were not produced.
    processed: u64,
    dropped: u64,
    /// The last buffer's timestamp; timestamps never go back.
    last_pts: Option<gst::ClockTime>,
    /// Holding failed for a reason other than no free hold (the hold file
    /// could not be made): frames are copied for the rest of the run.
    holds_failed: bool,
}

#[derive(Default)]
pub struct ShmFrameSrc {
    settings: Mutex<Settings>,
    state: Mutex<State>,
    /// The caps of the frames being produced, apart from `state` so that caps
    /// queries never wait for `create`, and `create` holds no lock while it
    /// sets caps (downstream may query them back).
    format: Mutex<Option<(gst_video::VideoInfo, FrameMeta)>>,
    /// Set by `unlock` (a flush or a state change wants `create` back), cleared by `unlock_stop`.
    flushing: AtomicBool,
    /// Memory of frames GStreamer has freed, for the next ones.
    recycler: Recycler,
    /// Whether downstream reads `GstVideoMeta`, so that a held frame laid out
    /// unlike GStreamer's default can still be pushed in place.
    video_meta: AtomicBool,
    /// Buffers pushed since start: held frames in place, and copies (the `stats` property).
    zero_copied: AtomicU64,
    copied: AtomicU64,
    /// How the last buffer was made (`ORIGIN_*`), to log only the changes.
    last_origin: AtomicU8,
}

const ORIGIN_HELD: u8 = 1;
const ORIGIN_COPIED: u8 = 2;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What one look at the stream found.
enum Step {
    Frame(FrameInfo, Pixels),
    Nothing,
    End,
}

/// A frame's pixels: held in place in the segment, or copied out.
enum Pixels {
    Held(OwnedHeldFrame),
    Copied(Vec<u8>),
}

impl ShmFrameSrc {
    /// Opens the stream, asking for `holds` holds; `Ok(None)` if it does not
    /// exist yet and waiting is allowed.
    fn open(
        &self,
        name: &str,
        wait: bool,
        holds: u32,
    ) -> Result<Option<Reader>, gst::ErrorMessage> {
        let options = ReaderOptions {
            holds: holds as usize,
            ..ReaderOptions::default()
        };
        match Reader::open_with(name, &options) {
            Ok(reader) => {
                gst::info!(CAT, imp = self, "reading {}", reader.path().display());
                Ok(Some(reader))
            }
            Err(Error::NoStream { .. }) if wait => Ok(None),
            Err(e @ Error::NoStream { .. }) => Err(gst::error_msg!(
                gst::ResourceError::NotFound,
                ["{} (or set wait-for-writer=true)", e]
            )),
            Err(e) => Err(gst::error_msg!(
                gst::ResourceError::OpenRead,
                ["could not open stream `{}`: {}", name, e]
            )),
        }
    }

    /// Looks at the stream once, waiting up to [`WAKE_SLICE`] for a frame.
    fn step(&self, state: &mut State) -> Result<Step, gst::ErrorMessage> {
        let Some((name, settings)) = state.settings.clone() else {
            return Err(gst::error_msg!(gst::CoreError::Failed, ["not started"]));
        };
        let reader = match state.reader.as_mut() {
            Some(reader) => reader,
            None => match self.open(&name, true, settings.holds)? {
                Some(reader) => state.reader.insert(reader),
                None if settings.eos_on_close && state.processed > 0 => return Ok(Step::End),
                None => {
                    std::thread::sleep(WAKE_SLICE);
                    return Ok(Step::Nothing);
                }
            },
        };
        let read_error = |e: Error| {
            gst::error_msg!(
                gst::ResourceError::Read,
                ["could not read a frame from stream `{}`: {}", name, e]
            )
        };
        if settings.zero_copy && !state.holds_failed {
            let held = match settings.mode {
                ReadMode::Latest => reader.wait_hold_latest(WAKE_SLICE),
                ReadMode::Every => reader.wait_hold_next(WAKE_SLICE),
            };
            // Owned at once, so that the reader is free again for a copy.
            match held.map(|frame| frame.map(shmframe::HeldFrame::into_owned)) {
                Ok(Some(frame)) => {
                    return Ok(Step::Frame(*frame.info(), Pixels::Held(frame)));
                }
                Ok(None) => {}
                // A frame is there but no hold is free (downstream keeps them,
                // or they were not granted yet): copy it at once, never wait.
                Err(Error::NoHoldFree) => {
                    return self.copy_now(reader, settings.mode).map_err(read_error)
                }
                Err(e @ Error::Io { .. }) => {
                    gst::warning!(
                        CAT,
                        imp = self,
                        "frames are copied: cannot hold them: {}",
                        e
                    );
                    state.holds_failed = true;
                    return Ok(Step::Nothing);
                }
                Err(e) => return Err(read_error(e)),
            }
        } else {
            let mut pixels = self.recycler.take();
            let waited = match settings.mode {
                ReadMode::Latest => reader.wait_latest(&mut pixels, WAKE_SLICE),
                ReadMode::Every => reader.wait_next(&mut pixels, WAKE_SLICE),
            };
            match waited {
                Ok(Some(info)) => return Ok(Step::Frame(info, Pixels::Copied(pixels))),
                Ok(None) => self.recycler.give_back(pixels),
                Err(e) => return Err(read_error(e)),
            }
        }
        if !settings.eos_on_close || reader.writer_alive() {
            return Ok(Step::Nothing);
        }
        let mut pixels = Vec::new();
        // The writer is gone: a frame it published just before leaving is still
        // produced; then the stream ends unless a new writer took the name.
        let last = match settings.mode {
            ReadMode::Latest => reader.latest(&mut pixels),
            ReadMode::Every => reader.next(&mut pixels),
        };
        if let Some(info) = last.map_err(read_error)? {
            return Ok(Step::Frame(info, Pixels::Copied(pixels)));
        }
        if reader.follow().map_err(read_error)? {
            return Ok(Step::Nothing);
        }
        Ok(Step::End)
    }

    /// Copies the frame a refused hold was for (the latest, or the next in order).
    fn copy_now(&self, reader: &mut Reader, mode: ReadMode) -> Result<Step, Error> {
        let mut pixels = self.recycler.take();
        let copied = match mode {
            ReadMode::Latest => reader.latest(&mut pixels),
            ReadMode::Every => reader.next(&mut pixels),
        };
        match copied {
            Ok(Some(info)) => Ok(Step::Frame(info, Pixels::Copied(pixels))),
            other => {
                self.recycler.give_back(pixels);
                other.map(|_| Step::Nothing)
            }
        }
    }

    /// Asks downstream whether it reads `GstVideoMeta` for buffers of `caps`.
    fn ask_video_meta(&self, caps: &gst::Caps) {
        let mut query = gst::query::Allocation::new(Some(caps), false);
        let reads = self.obj().src_pad().peer_query(&mut query)
            && query
                .find_allocation_meta::<gst_video::VideoMeta>()
                .is_some();
        gst::debug!(CAT, imp = self, "downstream reads GstVideoMeta: {}", reads);
        self.video_meta.store(reads, Ordering::Relaxed);
    }

    /// A frame as a buffer: the held frame itself (read-only memory whose
    /// release ends the hold), or a copy; and whether it is the held frame.
    fn frame_buffer(
        &self,
        info: &FrameInfo,
        pixels: Pixels,
        video_info: &gst_video::VideoInfo,
    ) -> Result<(gst::Buffer, bool), planes::CopyError> {
        match pixels {
            Pixels::Held(frame) => planes::held_to_buffer(
                &info.meta,
                HeldPixels(frame),
                video_info,
                self.video_meta.load(Ordering::Relaxed),
            ),
            Pixels::Copied(bytes) => {
                planes::to_buffer(&info.meta, self.recycler.wrap(bytes), video_info)
                    .map(|buffer| (buffer, false))
            }
        }
    }

    /// Counts a pushed buffer as held in place or copied; logs when that
    /// changes, not per frame.
    fn count(&self, zero_copy: bool, number: u64) {
        let (counter, origin) = match zero_copy {
            true => (&self.zero_copied, ORIGIN_HELD),
            false => (&self.copied, ORIGIN_COPIED),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if self.last_origin.swap(origin, Ordering::Relaxed) != origin {
            let what = match zero_copy {
                true => "the held frames themselves",
                false => "copies (zero-copy off, or no hold free)",
            };
            gst::debug!(
                CAT,
                imp = self,
                "from frame {} on, buffers are {}",
                number,
                what
            );
        }
    }

    /// What the `stats` property reports.
    fn stats(&self) -> gst::Structure {
        gst::Structure::builder("application/x-shmframesrc-stats")
            .field("zero-copy", self.zero_copied.load(Ordering::Relaxed))
            .field("copied", self.copied.load(Ordering::Relaxed))
            .build()
    }

    /// The caps for a frame, set downstream first when its size, format or colorimetry changed.
    fn negotiate_frame(&self, meta: &FrameMeta) -> Result<gst_video::VideoInfo, gst::FlowError> {
        let same = |m: &FrameMeta| {
            (m.width, m.height, m.format, m.color)
                == (meta.width, meta.height, meta.format, meta.color)
        };
        if let Some((info, _)) = lock(&self.format).as_ref().filter(|(_, m)| same(m)) {
            return Ok(info.clone());
        }
        let info = formats::video_info(meta).map_err(|e| {
            gst::element_imp_error!(self, gst::StreamError::Format, ["{}", e]);
            gst::FlowError::NotNegotiated
        })?;
        let caps = info.to_caps().map_err(|_| gst::FlowError::NotNegotiated)?;
        gst::debug!(CAT, imp = self, "frames are now {}", caps);
        *lock(&self.format) = Some((info.clone(), *meta));
        if self.obj().set_caps(&caps).is_err() {
            *lock(&self.format) = None;
            gst::element_imp_error!(
                self,
                gst::CoreError::Negotiation,
                ["downstream does not accept the stream's frames as {}", caps]
            );
            return Err(gst::FlowError::NotNegotiated);
        }
        self.ask_video_meta(&caps);
        Ok(info)
    }

    /// The running time of a frame published at `frame_ns`, never before the previous buffer's.
    fn timestamp(&self, state: &mut State, frame_ns: u64) -> Option<gst::ClockTime> {
        let obj = self.obj();
        let clock_now = obj.clock()?.time()?;
        let base_time = obj.base_time()?;
        let pts = clock::running_time(frame_ns, shmframe::monotonic_ns(), clock_now, base_time);
        let pts = state.last_pts.map_or(pts, |last| pts.max(last));
        state.last_pts = Some(pts);
        Some(pts)
    }

    /// Counts the frames skipped since the last one produced; returns whether
    /// the buffer starts a discontinuity, and the QoS message for the bus when
    /// frames were skipped.
    fn account(
        &self,
        state: &mut State,
        info: &FrameInfo,
        pts: Option<gst::ClockTime>,
    ) -> (bool, Option<gst::Message>) {
        // The segment's creation time tells a restarted or moved writer apart;
        // it is looked up only when the indexes do not simply go on by one.
        let created = |state: &State| state.reader.as_ref().map_or(0, |r| r.status().created_ns);
        let (skipped, segment) = match state.last {
            Some((index, segment)) if info.index == index + 1 && info.missed == 0 => (0, segment),
            // `missed` is exact for in-order reads; for latest reads the gap in indexes says it.
            Some((index, segment)) if info.index > index && created(state) == segment => {
                (info.missed.max(info.index - index - 1), segment)
            }
            _ => (info.missed, created(state)),
        };
        let new_segment = state.last.is_some_and(|(_, last)| last != segment);
        state.last = Some((info.index, segment));
        state.processed += 1;
        if skipped == 0 {
            return (new_segment, None);
        }
        state.dropped += skipped;
        gst::debug!(
            CAT,
            imp = self,
            "{} frames skipped before frame {} ({} in all)",
            skipped,
            info.number,
            state.dropped
        );
        let message = gst::message::Qos::builder(true)
            .running_time(pts)
            .stream_time(pts)
            .timestamp(pts)
            .stats(
                gst::format::Buffers::from_u64(state.processed),
                gst::format::Buffers::from_u64(state.dropped),
            )
            .src(&*self.obj())
            .build();
        (true, Some(message))
    }
}

#[glib::object_subclass]
impl ObjectSubclass for ShmFrameSrc {
    const NAME: &'static str = "GstShmFrameSrc";
    type Type = super::ShmFrameSrc;
    type ParentType = gst_base::PushSrc;
}

impl ObjectImpl for ShmFrameSrc {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                stream_name::param_spec("read"),
                glib::ParamSpecEnum::builder_with_default("mode", ReadMode::Latest)
                    .nick("Read mode")
                    .blurb(
                        "latest: the newest frame each time (a slow pipeline skips frames); \
                         every: every frame in order while the writer's ring holds it. \
                         Frames not produced (skipped or lapped) are counted in QoS messages",
                    )
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("wait-for-writer")
                    .nick("Wait for writer")
                    .blurb(
                        "Wait for the stream to be created instead of failing at start \
                         when it does not exist",
                    )
                    .default_value(true)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("eos-on-close")
                    .nick("EOS on close")
                    .blurb(
                        "End the stream (EOS) when the writer closes or dies, instead of \
                         waiting for a writer to publish under the name again",
                    )
                    .default_value(false)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoolean::builder("zero-copy")
                    .nick("Zero copy")
                    .blurb(
                        "Push each frame as read-only memory held in place in the stream \
                         (the writer leaves it alone until the buffer is freed) instead of \
                         a copy; when no hold is free, the frame is copied at once. Each \
                         buffer's GstShmFrameMeta says which (field zero-copy)",
                    )
                    .default_value(true)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("holds")
                    .nick("Holds")
                    .blurb(
                        "Frames this source may hold in place at once (buffers alive \
                         downstream); further frames are copied. The writer grants \
                         what is free of its own holds",
                    )
                    .minimum(1)
                    .maximum(shmframe::layout::MAX_HOLDS as u32)
                    .default_value(DEFAULT_HOLDS)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecBoxed::builder::<gst::Structure>("stats")
                    .nick("Statistics")
                    .blurb(
                        "Buffers pushed since start: zero-copy (the held frame itself) \
                         and copied",
                    )
                    .read_only()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = lock(&self.settings);
        match pspec.name() {
            "stream" => settings.stream = value.get().unwrap_or(None),
            "mode" => settings.mode = value.get().unwrap_or_default(),
            "wait-for-writer" => settings.wait_for_writer = value.get().unwrap_or(true),
            "eos-on-close" => settings.eos_on_close = value.get().unwrap_or(false),
            "zero-copy" => settings.zero_copy = value.get().unwrap_or(true),
            "holds" => settings.holds = value.get().unwrap_or(DEFAULT_HOLDS),
            other => gst::warning!(CAT, imp = self, "no property {}", other),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = lock(&self.settings);
        match pspec.name() {
            "stream" => settings.stream.to_value(),
            "mode" => settings.mode.to_value(),
            "wait-for-writer" => settings.wait_for_writer.to_value(),
            "eos-on-close" => settings.eos_on_close.to_value(),
            "zero-copy" => settings.zero_copy.to_value(),
            "holds" => settings.holds.to_value(),
            "stats" => self.stats().to_value(),
            _ => pspec.default_value().clone(),
        }
    }

    fn constructed(&self) {
        self.parent_constructed();
        let obj = self.obj();
        obj.set_live(true);
        obj.set_format(gst::Format::Time);
        origin::register();
    }
}

impl GstObjectImpl for ShmFrameSrc {}

crate::element::element_impl!(
    ShmFrameSrc,
    "shmframe source",
    "Source/Video",
    "Produces the frames of a shmframe stream as raw video, with caps from each \
     frame, timestamps from its publication time, following a restarted writer",
    "src",
    gst::PadDirection::Src
);

impl BaseSrcImpl for ShmFrameSrc {
    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = lock(&self.settings).clone();
        let name = stream_name::checked(settings.stream.as_deref())?;
        let reader = self.open(&name, settings.wait_for_writer, settings.holds)?;
        *lock(&self.state) = State {
            settings: Some((name, settings)),
            reader,
            ..State::default()
        };
        *lock(&self.format) = None;
        self.zero_copied.store(0, Ordering::Relaxed);
        self.copied.store(0, Ordering::Relaxed);
        self.last_origin.store(0, Ordering::Relaxed);
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        *lock(&self.state) = State::default();
        *lock(&self.format) = None;
        Ok(())
    }

    fn is_seekable(&self) -> bool {
        false
    }

    fn caps(&self, filter: Option<&gst::Caps>) -> Option<gst::Caps> {
        let caps = match lock(&self.format).as_ref() {
            Some((info, _)) => info.to_caps().ok()?,
            None => formats::template_caps(),
        };
        Some(match filter {
            Some(filter) => filter.intersect_with_mode(&caps, gst::CapsIntersectMode::First),
            None => caps,
        })
    }

    /// Caps come from the frames: before the first one there is nothing to
    /// negotiate, and after it `create` has set them.
    fn negotiate(&self) -> Result<(), gst::LoggableError> {
        let caps = lock(&self.format)
            .as_ref()
            .and_then(|(info, _)| info.to_caps().ok());
        let Some(caps) = caps else {
            return Ok(());
        };
        self.obj()
            .set_caps(&caps)
            .map_err(|_| gst::loggable_error!(CAT, "downstream refused {}", caps))?;
        self.ask_video_meta(&caps);
        Ok(())
    }

    fn unlock(&self) -> Result<(), gst::ErrorMessage> {
        self.flushing.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn unlock_stop(&self) -> Result<(), gst::ErrorMessage> {
        self.flushing.store(false, Ordering::SeqCst);
        Ok(())
    }
}

impl PushSrcImpl for ShmFrameSrc {
    fn create(
        &self,
        _buffer: Option<&mut gst::BufferRef>,
    ) -> Result<CreateSuccess, gst::FlowError> {
        let (info, pixels) = loop {
            if self.flushing.load(Ordering::SeqCst) {
                return Err(gst::FlowError::Flushing);
            }
            // The lock is taken for one look at a time, so `stop` never waits long for it.
            let step = self.step(&mut lock(&self.state));
            match step {
                Ok(Step::Frame(info, pixels)) => break (info, pixels),
                Ok(Step::Nothing) => continue,
                Ok(Step::End) => {
                    gst::info!(CAT, imp = self, "the writer closed: end of stream");
                    return Err(gst::FlowError::Eos);
                }
                Err(message) => {
                    self.post_error_message(message);
                    return Err(gst::FlowError::Error);
                }
            }
        };
        let video_info = self.negotiate_frame(&info.meta)?;
        let (pts, discont, qos) = {
            let mut state = lock(&self.state);
            // The time of the publish on this machine: an imported frame's
            // own timestamp is on its sender's clock.
            let pts = self.timestamp(&mut state, info.published_ns);
            let (discont, qos) = self.account(&mut state, &info, pts);
            (pts, discont, qos)
        };
        if let Some(qos) = qos {
            let _ = self.obj().post_message(qos);
        }
        let (mut buffer, zero_copy) =
            self.frame_buffer(&info, pixels, &video_info).map_err(|e| {
                gst::element_imp_error!(self, gst::StreamError::Format, ["{}", e]);
                gst::FlowError::Error
            })?;
        self.count(zero_copy, info.number);
        {
            let buffer = buffer.get_mut().ok_or(gst::FlowError::Error)?;
            if let Err(e) = origin::mark(buffer, zero_copy) {
                gst::warning!(CAT, imp = self, "no GstShmFrameMeta on the buffer: {}", e);
            }
            buffer.set_pts(pts);
            buffer.set_offset(info.number);
            if discont {
                buffer.set_flags(gst::BufferFlags::DISCONT);
            }
        }
        Ok(CreateSuccess::NewBuffer(buffer))
    }
}
