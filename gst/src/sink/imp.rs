//! The sink's implementation: properties, caps, and publishing each buffer.
//!
//! The writer is created at the first caps, with slots just large enough for
//! that frame, and moved to larger slots (`Writer::reconfigure`) when the caps
//! change to a larger frame; readers follow it on their own. It is dropped,
//! which closes the stream and removes its name, on EOS and when the element
//! stops (PAUSED to READY, so also on the way to NULL).

use super::Access;
use crate::{formats, planes, stream_name};
use gst::glib;
use gst::prelude::*;
use gst::subclass::prelude::*;
use gst_base::subclass::prelude::*;
use shmframe::{FrameMeta, Writer, WriterOptions};
use std::sync::{LazyLock, Mutex, MutexGuard};

static CAT: LazyLock<gst::DebugCategory> = LazyLock::new(|| {
    gst::DebugCategory::new(
        "shmframesink",
        gst::DebugColorFlags::empty(),
        Some("shmframe stream sink"),
    )
});

const DEFAULT_SLOTS: u32 = 2;

#[derive(Debug, Clone)]
struct Settings {
    stream: Option<String>,
    slots: u32,
    holds: u32,
    access: Access,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            stream: None,
            slots: DEFAULT_SLOTS,
            holds: shmframe::DEFAULT_HOLDS as u32,
            access: Access::Owner,
        }
    }
}

/// What the element holds while running.
#[derive(Default)]
struct State {
    /// Checked stream name and writer options, from `start`.
    target: Option<(String, WriterOptions)>,
    /// The writer, from the first caps until EOS or stop.
    writer: Option<Writer>,
    /// The negotiated caps, as GStreamer and as shmframe describe a frame.
    format: Option<(gst_video::VideoInfo, FrameMeta)>,
}

#[derive(Default)]
pub struct ShmFrameSink {
    settings: Mutex<Settings>,
    state: Mutex<State>,
}

/// Locks a mutex, taking the data even if a panicking thread poisoned it
/// (the data are plain values that stay consistent).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ShmFrameSink {
    /// Makes sure a writer exists whose slots hold `meta`'s frame, creating or growing it.
    fn ensure_writer(&self, state: &mut State, meta: &FrameMeta) -> Result<(), gst::ErrorMessage> {
        let len = meta
            .checked_len()
            .map_err(|e| gst::error_msg!(gst::StreamError::Format, ["{}", e]))?;
        let Some((name, options)) = state.target.clone() else {
            return Err(gst::error_msg!(
                gst::CoreError::StateChange,
                ["caps arrived before the element started"]
            ));
        };
        let options = WriterOptions {
            slot_capacity: len,
            ..options
        };
        match state.writer.as_mut() {
            Some(writer) if writer.slot_capacity() >= len => Ok(()),
            Some(writer) => {
                gst::info!(
                    CAT,
                    imp = self,
                    "moving `{}` to slots of {} bytes",
                    name,
                    len
                );
                writer.reconfigure(&options).map_err(|e| {
                    gst::error_msg!(
                        gst::ResourceError::Write,
                        [
                            "could not grow stream `{}` to {} bytes per frame: {}",
                            name,
                            len,
                            e
                        ]
                    )
                })
            }
            None => {
                let writer = Writer::create(&name, &options).map_err(|e| {
                    gst::error_msg!(
                        gst::ResourceError::OpenWrite,
                        ["could not create stream `{}`: {}", name, e]
                    )
                })?;
                gst::info!(CAT, imp = self, "created {}", writer.path().display());
                state.writer = Some(writer);
                Ok(())
            }
        }
    }
}

#[glib::object_subclass]
impl ObjectSubclass for ShmFrameSink {
    const NAME: &'static str = "GstShmFrameSink";
    type Type = super::ShmFrameSink;
    type ParentType = gst_base::BaseSink;
}

impl ObjectImpl for ShmFrameSink {
    fn properties() -> &'static [glib::ParamSpec] {
        static PROPERTIES: LazyLock<Vec<glib::ParamSpec>> = LazyLock::new(|| {
            vec![
                stream_name::param_spec("create and publish into"),
                // The range is checked at start, so that a bad value is an
                // element error rather than a GLib warning that keeps the default.
                glib::ParamSpecUInt::builder("slots")
                    .nick("Slots")
                    .blurb(
                        "Slots in the ring, 2 to 1024: more let in-order readers \
                         (shmframesrc mode=every) fall further behind without missing frames",
                    )
                    .default_value(DEFAULT_SLOTS)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecUInt::builder("holds")
                    .nick("Holds")
                    .blurb(
                        "Frames readers may hold in place at once, all readers together \
                         (0 to 64; 0: readers always copy). The ring gets at least \
                         holds + 2 slots, so the writer never waits for a holder",
                    )
                    .default_value(shmframe::DEFAULT_HOLDS as u32)
                    .mutable_ready()
                    .build(),
                glib::ParamSpecEnum::builder_with_default("mode", Access::Owner)
                    .nick("File mode")
                    .blurb(
                        "Who may read the stream: 600 only its owner, 640 also the \
                         owner's group, 644 everyone (read-only in every case)",
                    )
                    .mutable_ready()
                    .build(),
            ]
        });
        PROPERTIES.as_ref()
    }

    fn set_property(&self, _id: usize, value: &glib::Value, pspec: &glib::ParamSpec) {
        let mut settings = lock(&self.settings);
        match pspec.name() {
            "stream" => settings.stream = value.get().unwrap_or(None),
            "slots" => settings.slots = value.get().unwrap_or(DEFAULT_SLOTS),
            "holds" => settings.holds = value.get().unwrap_or(shmframe::DEFAULT_HOLDS as u32),
            "mode" => settings.access = value.get().unwrap_or(Access::Owner),
            other => gst::warning!(CAT, imp = self, "no property {}", other),
        }
    }

    fn property(&self, _id: usize, pspec: &glib::ParamSpec) -> glib::Value {
        let settings = lock(&self.settings);
        match pspec.name() {
            "stream" => settings.stream.to_value(),
            "slots" => settings.slots.to_value(),
            "holds" => settings.holds.to_value(),
            "mode" => settings.access.to_value(),
            // GLib only asks for properties the element declared.
            _ => pspec.default_value().clone(),
        }
    }
}

impl GstObjectImpl for ShmFrameSink {}

crate::element::element_impl!(
    ShmFrameSink,
    "shmframe sink",
    "Sink/Video",
    "Publishes raw video as a shmframe stream in shared memory: any number of \
     readers, caps carried with every frame, never waits for a reader",
    "sink",
    gst::PadDirection::Sink
);

impl BaseSinkImpl for ShmFrameSink {
    fn start(&self) -> Result<(), gst::ErrorMessage> {
        let settings = lock(&self.settings).clone();
        let name = stream_name::checked(settings.stream.as_deref())?;
        if !(2..=shmframe::layout::MAX_SLOTS as u32).contains(&settings.slots) {
            return Err(gst::error_msg!(
                gst::ResourceError::Settings,
                [
                    "slots={} is out of range: a stream has 2 to {} slots",
                    settings.slots,
                    shmframe::layout::MAX_SLOTS
                ]
            ));
        }
        if settings.holds as usize > shmframe::layout::MAX_HOLDS {
            return Err(gst::error_msg!(
                gst::ResourceError::Settings,
                [
                    "holds={} is out of range: a stream honours 0 to {} holds",
                    settings.holds,
                    shmframe::layout::MAX_HOLDS
                ]
            ));
        }
        let options = WriterOptions {
            slots: settings.slots as usize,
            holds: settings.holds as usize,
            mode: settings.access.file_mode(),
            ..WriterOptions::default()
        };
        *lock(&self.state) = State {
            target: Some((name, options)),
            ..State::default()
        };
        Ok(())
    }

    fn stop(&self) -> Result<(), gst::ErrorMessage> {
        // Dropping the writer closes the stream and removes its name.
        *lock(&self.state) = State::default();
        Ok(())
    }

    fn set_caps(&self, caps: &gst::Caps) -> Result<(), gst::LoggableError> {
        let info = gst_video::VideoInfo::from_caps(caps)
            .map_err(|_| gst::loggable_error!(CAT, "not raw video caps: {}", caps))?;
        let (meta, exact) = formats::frame_meta(&info)
            .map_err(|e| gst::loggable_error!(CAT, "unusable caps {}: {}", caps, e))?;
        if !exact {
            gst::warning!(
                CAT,
                imp = self,
                "shmframe carries only BT.601 and BT.709 matrices: {} is sent as BT.709",
                info.colorimetry()
            );
        }
        let mut state = lock(&self.state);
        if let Err(message) = self.ensure_writer(&mut state, &meta) {
            self.post_error_message(message);
            return Err(gst::loggable_error!(CAT, "no stream for caps {}", caps));
        }
        gst::debug!(CAT, imp = self, "publishing {:?}", meta);
        state.format = Some((info, meta));
        Ok(())
    }

    fn propose_allocation(
        &self,
        query: &mut gst::query::Allocation,
    ) -> Result<(), gst::LoggableError> {
        // Any strides and plane offsets are fine: render copies plane by plane.
        query.add_allocation_meta::<gst_video::VideoMeta>(None);
        self.parent_propose_allocation(query)
    }

    fn render(&self, buffer: &gst::Buffer) -> Result<gst::FlowSuccess, gst::FlowError> {
        let mut state = lock(&self.state);
        let Some((info, meta)) = state.format.clone() else {
            gst::element_imp_error!(self, gst::CoreError::Negotiation, ["a buffer before caps"]);
            return Err(gst::FlowError::NotNegotiated);
        };
        if state.writer.is_none() {
            // After EOS and a flush, a new stream begins.
            if let Err(message) = self.ensure_writer(&mut state, &meta) {
                self.post_error_message(message);
                return Err(gst::FlowError::Error);
            }
        }
        let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer.as_ref(), &info)
            .map_err(|_| {
                gst::element_imp_error!(
                    self,
                    gst::StreamError::Format,
                    [
                        "the buffer does not hold a {}x{} {} frame",
                        info.width(),
                        info.height(),
                        info.format()
                    ]
                );
                gst::FlowError::Error
            })?;
        let planes = meta.planes().map_err(|e| {
            gst::element_imp_error!(self, gst::StreamError::Format, ["{}", e]);
            gst::FlowError::Error
        })?;
        let Some(writer) = state.writer.as_mut() else {
            return Err(gst::FlowError::Error);
        };
        match writer.publish_with(&meta, |fill| planes::fill_slot(&frame, &planes, fill)) {
            Ok(number) => {
                gst::trace!(CAT, imp = self, "published frame {}", number);
                Ok(gst::FlowSuccess::Ok)
            }
            Err(e) => {
                gst::element_imp_error!(
                    self,
                    gst::ResourceError::Write,
                    ["could not publish a frame: {}", e]
                );
                Err(gst::FlowError::Error)
            }
        }
    }

    fn event(&self, event: gst::Event) -> bool {
        if let gst::EventView::Eos(_) = event.view() {
            gst::debug!(CAT, imp = self, "EOS: closing the stream");
            lock(&self.state).writer = None;
        }
        self.parent_event(event)
    }
}
