//! A stream region on the heap: the protocol without shared memory.
//!
//! Unit tests, Miri, loom and the fuzzers run the protocol on this; the mapped
//! segment runs the very same code.

use crate::error::{Error, Result};
use crate::layout::{Geometry, HEADER_SIZE};
use crate::protocol::Region;
use crate::sync::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// Zeroed words for one stream, owned by this process.
pub struct HeapRegion {
    words: Box<[AtomicU64]>,
    futex: AtomicU32,
    asleep_after: AtomicU64,
    geometry: Geometry,
}

impl HeapRegion {
    /// A zeroed region for `geometry`.
    pub fn new(geometry: Geometry) -> HeapRegion {
        HeapRegion {
            words: (0..geometry.total_words())
                .map(|_| AtomicU64::new(0))
                .collect(),
            futex: AtomicU32::new(0),
            asleep_after: AtomicU64::new(0),
            geometry,
        }
    }

    /// A region holding a copy of `bytes`, validated exactly as a reader
    /// validates a segment it attaches to (the fuzzers feed it garbage).
    pub fn from_bytes(bytes: &[u8]) -> Result<HeapRegion> {
        if bytes.len() < HEADER_SIZE {
            return Err(Error::BadSegment {
                reason: format!("{} bytes is less than a header", bytes.len()),
            });
        }
        let word_at =
            |i: usize| u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        let header = bytes[..64].try_into().expect("checked: at least a header");
        let geometry = Geometry::from_header_bytes(header, bytes.len() as u64)?;
        let heap = HeapRegion::new(geometry);
        for (i, cell) in heap.words.iter().enumerate() {
            cell.store(word_at(i), Relaxed);
        }
        Ok(heap)
    }

    /// The protocol's view of this region.
    pub fn region(&self) -> Region<'_> {
        Region::new(&self.words, &self.futex, &self.asleep_after, self.geometry)
            .expect("a heap region is allocated at the geometry's size")
    }

    /// Overwrites word `index` (byte offset `index * 8`), as a hostile or
    /// broken writer might; indexes past the end are ignored.
    pub fn store_word(&self, index: usize, value: u64) {
        if let Some(cell) = self.words.get(index) {
            cell.store(value, Relaxed);
        }
    }

    /// Number of 64-bit words in the region.
    pub fn word_count(&self) -> usize {
        self.words.len()
    }
}
