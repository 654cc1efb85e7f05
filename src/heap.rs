//! A stream region on the heap: the protocol without shared memory.
//!
//! Unit tests, Miri and loom run the protocol on this; the mapped segment runs
//! the very same code.

use crate::layout::Geometry;
use crate::protocol::Region;
use crate::sync::{AtomicU32, AtomicU64};

/// Zeroed words for one stream, owned by this process.
pub struct HeapRegion {
    words: Box<[AtomicU64]>,
    futex: AtomicU32,
    geometry: Geometry,
}

impl HeapRegion {
    /// A zeroed region for `geometry`.
    pub fn new(geometry: Geometry) -> HeapRegion {
        HeapRegion {
            words: (0..geometry.total_words()).map(|_| AtomicU64::new(0)).collect(),
            futex: AtomicU32::new(0),
            geometry,
        }
    }

    /// The protocol's view of this region.
    pub fn region(&self) -> Region<'_> {
        Region::new(&self.words, &self.futex, self.geometry)
            .expect("a heap region is allocated at the geometry's size")
    }
}
