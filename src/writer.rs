//! The writer: creates a stream and publishes frames into it.

use crate::clock::{coarse_monotonic_ns, monotonic_ns};
use crate::error::{Error, Result};
use crate::hold_file::hold_prefix;
use crate::holds::HoldRegistry;
use crate::install::{create_pending, sweep_leftovers};
use crate::layout::{FrameMeta, Geometry, STATE_CLOSED, STATE_REPLACED};
use crate::protocol::{FrameOrigin, HoldEntries, NoHolds, Region, RingWriter, SlotFill};
use crate::segment::Segment;
use std::path::Path;

mod begin;
pub use begin::BegunFrame;

/// Default slot capacity: one 1920x1080 RGBA frame.
pub const DEFAULT_SLOT_CAPACITY: usize = 1920 * 1080 * 4;

/// Default number of frames readers may hold in place at once.
pub const DEFAULT_HOLDS: usize = 4;

/// How to create a stream.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// Slots in the ring (at least 2, and at least `holds + 2`, which it is
    /// raised to; more lets in-order readers fall further behind).
    pub slots: usize,
    /// Largest frame, in bytes, a slot can hold.
    pub slot_capacity: usize,
    /// File mode of the segment: 0o600 (default), 0o640 or 0o644. Others only ever read.
    pub mode: u32,
    /// Frames readers may hold in place at once, in all (default
    /// [`DEFAULT_HOLDS`]; 0: readers always copy). Each hold costs a slot:
    /// the ring has at least `holds + 2` slots of `slot_capacity` bytes.
    pub holds: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            slots: 2,
            slot_capacity: DEFAULT_SLOT_CAPACITY,
            mode: 0o600,
            holds: DEFAULT_HOLDS,
        }
    }
}

impl WriterOptions {
    fn check_mode(&self) -> Result<()> {
        // The owner reads and writes; group and others may at most read.
        if self.mode & 0o600 != 0o600 || self.mode & !0o644 != 0 {
            return Err(Error::InvalidOptions(format!(
                "mode {:o} must give the owner read-write and others at most read (600, 640 or 644)",
                self.mode
            )));
        }
        Ok(())
    }
}

/// The one writer of a stream. Dropping it closes the stream and removes its name.
pub struct Writer {
    segment: Segment,
    ring: RingWriter,
    options: WriterOptions,
    /// The hold files this writer honours (`None` without holds).
    holds: Option<HoldRegistry>,
}

impl Writer {
    /// Creates stream `name` and becomes its writer.
    ///
    /// Fails if another live process is writing it. A segment left by a writer
    /// that died is replaced.
    pub fn create(name: &str, options: &WriterOptions) -> Result<Writer> {
        options.check_mode()?;
        let (segment, ring) = new_segment(name, options, None)?;
        Ok(Writer {
            holds: registry_of(&segment),
            segment,
            ring,
            options: options.clone(),
        })
    }

    /// The region to publish into and the ring writer: looks for hold files
    /// first when it is time.
    #[inline]
    fn parts(&mut self) -> (Region<'_>, &mut RingWriter) {
        if let Some(registry) = &mut self.holds {
            let rescan = self.segment.rescan_requests();
            registry.maintain(&self.segment.region(), rescan, coarse_monotonic_ns());
        }
        // One region, built where it is used: moving it between two
        // constructions cost every 64 B publish a store-forwarding stall.
        let holds: &(dyn HoldEntries + Sync) = match &self.holds {
            Some(registry) => registry,
            None => &NoHolds,
        };
        (self.segment.region_honouring(holds), &mut self.ring)
    }

    /// Publishes a frame copied from `pixels`; returns its frame number. Never waits for readers.
    #[inline]
    pub fn publish(&mut self, meta: &FrameMeta, pixels: &[u8]) -> Result<u64> {
        let (region, ring) = self.parts();
        ring.publish(&region, meta, monotonic_ns, pixels)
    }

    /// Publishes a frame copied from `pixels` under its own number and
    /// timestamp (see [`FrameOrigin`]); returns its index in the stream.
    ///
    /// For a writer that republishes frames from elsewhere, such as the
    /// bridge's importer: readers see `origin`'s number and timestamp, and
    /// the time of this publish as [`FrameInfo::published_ns`](crate::FrameInfo).
    pub fn publish_from(
        &mut self,
        origin: FrameOrigin,
        meta: &FrameMeta,
        pixels: &[u8],
    ) -> Result<u64> {
        let (region, ring) = self.parts();
        ring.publish_from(&region, meta, origin, monotonic_ns, pixels)
    }

    /// Publishes a frame filled in place by `fill`; returns its frame number.
    ///
    /// `fill` should write all `meta.stride * meta.height` bytes; bytes it does
    /// not write keep the slot's old contents. If `fill` returns an error, nothing
    /// is published.
    #[inline]
    pub fn publish_with<E: From<Error>>(
        &mut self,
        meta: &FrameMeta,
        fill: impl FnOnce(&mut SlotFill<'_>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let (region, ring) = self.parts();
        ring.publish_with(&region, meta, monotonic_ns, fill)
    }

    /// [`publish_with`](Self::publish_with) under the frame's own number and
    /// timestamp (see [`publish_from`](Self::publish_from)); returns its index.
    pub fn publish_with_from<E: From<Error>>(
        &mut self,
        origin: FrameOrigin,
        meta: &FrameMeta,
        fill: impl FnOnce(&mut SlotFill<'_>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let (region, ring) = self.parts();
        ring.publish_with_from(&region, meta, origin, monotonic_ns, fill)
    }

    /// Moves the stream to a new segment with other options (for example bigger
    /// slots). Readers follow on their own; frame numbers start again at 1.
    pub fn reconfigure(&mut self, options: &WriterOptions) -> Result<()> {
        options.check_mode()?;
        let (segment, ring) = new_segment(self.segment.name(), options, Some(&self.segment))?;
        let old = std::mem::replace(&mut self.segment, segment);
        self.ring.close(&old.region(), STATE_REPLACED);
        self.ring = ring;
        self.holds = registry_of(&self.segment);
        self.options = options.clone();
        Ok(())
    }

    /// Frames published into the current segment.
    pub fn frames_published(&self) -> u64 {
        self.ring.published()
    }

    /// `FUTEX_WAKE` system calls made for the current segment. A publish
    /// makes one only while some reader may be asleep waiting for it.
    pub fn futex_wakes(&self) -> u64 {
        self.ring.wakes()
    }

    /// Largest frame, in bytes, a slot holds.
    pub fn slot_capacity(&self) -> usize {
        self.options.slot_capacity
    }

    /// The stream name.
    pub fn name(&self) -> &str {
        self.segment.name()
    }

    /// The segment file's path.
    pub fn path(&self) -> &Path {
        self.segment.path()
    }
}

/// Creates and installs a segment for `name`, in place of `current` if this
/// writer is moving from it.
fn new_segment(
    name: &str,
    options: &WriterOptions,
    current: Option<&Segment>,
) -> Result<(Segment, RingWriter)> {
    // A count the ring cannot have is refused, not raised.
    Geometry::new(options.slots, options.slot_capacity)?;
    let slots = options.slots.max(options.holds.saturating_add(2));
    let geometry = Geometry::with_holds(slots, options.slot_capacity, options.holds)?;
    let pending = create_pending(name, geometry, options.mode)?;
    let ring = pending.init(std::process::id(), monotonic_ns());
    let segment = match current {
        Some(current) => pending.install_over(current)?,
        None => pending.install()?,
    };
    Ok((segment, ring))
}

/// The hold registry of a new segment, if it honours holds (and has a wake
/// file, whose token names its hold files).
fn registry_of(segment: &Segment) -> Option<HoldRegistry> {
    let token = segment.wake_token();
    if segment.region().geometry().holds == 0 || token == 0 {
        return None;
    }
    let dir = segment.path().parent()?;
    Some(HoldRegistry::new(dir, hold_prefix(token)))
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.ring.close(&self.segment.region(), STATE_CLOSED);
        self.segment.unlink_if_current();
        // Readers killed while they held frames left their hold files (the
        // hold scans remove them while the writer runs, `HoldRegistry::scan`);
        // the readers still alive remove theirs when they close.
        if let Some(dir) = self.segment.path().parent() {
            sweep_leftovers(dir);
        }
    }
}
