//! A plain shared-memory block for the floors and for coordinating processes.
//!
//! The first [`CONTROL_BYTES`] hold control words, each on its own 128-byte
//! line and only ever accessed atomically; the data area after them is
//! accessed with plain copies, under a handshake the caller keeps.

use crate::BenchResult;
use memmap2::MmapMut;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64};

/// Bytes of control lines before the data area.
pub const CONTROL_BYTES: usize = 4096;
const LINE: usize = 128;

/// The floors copy in pieces of this size: glibc's `memcpy` switches to
/// non-temporal stores for large copies (several MiB), which send a frame to
/// DRAM instead of leaving it in cache for the reader on the other CPU; that
/// measured slower here in the cross-process cases, so a floor avoids it.
pub const COPY_CHUNK: usize = 1 << 20;

/// Control line: children that are attached and ready.
pub const READY: usize = 0;
/// Control line: the last frame the reader acknowledged.
pub const ACK: usize = 1;
/// Control line: set to non-zero to stop the other side.
pub const STOP: usize = 2;
/// Control line: the floor's cache line (a timestamp or a counter).
pub const PING: usize = 3;
/// Control line: the floor's futex word (its low 32 bits).
pub const FUTEX: usize = 4;
/// Control line: frames produced (a handshake ring).
pub const PRODUCED: usize = 5;
/// Control line: frames consumed (a handshake ring).
pub const CONSUMED: usize = 6;
/// Control line: a timestamp that travels beside a futex bump.
pub const STAMP: usize = 7;

/// A file under /dev/shm mapped read-write; the creator removes it on drop.
pub struct SharedBlock {
    map: MmapMut,
    path: PathBuf,
    owner: bool,
}

impl SharedBlock {
    /// Creates a block with `data_len` bytes of data after the control lines.
    pub fn create(data_len: usize) -> BenchResult<SharedBlock> {
        let path = Path::new("/dev/shm").join(crate::unique_name("block"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| format!("creating {}: {e}", path.display()))?;
        // From here on the block owns the path and removes it on any failure.
        let sized = file.set_len((CONTROL_BYTES + data_len) as u64);
        let mapped = sized
            .map_err(|e| format!("sizing {}: {e}", path.display()))
            .and_then(|()| Self::map(file, path.clone(), true));
        if mapped.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        mapped
    }

    fn map(file: std::fs::File, path: PathBuf, owner: bool) -> BenchResult<SharedBlock> {
        let len = file.metadata().map_err(|e| e.to_string())?.len();
        if len < CONTROL_BYTES as u64 {
            return Err(format!("{} is too small", path.display()));
        }
        // SAFETY: the file is a benchmark block under /dev/shm that this benchmark
        // created, and nothing truncates it while mapped. Other processes change
        // it concurrently, which is the point: the control lines are only
        // accessed atomically, and the data area only under the callers' handshake.
        let map = unsafe { MmapMut::map_mut(&file) }
            .map_err(|e| format!("mapping {}: {e}", path.display()))?;
        Ok(SharedBlock { map, path, owner })
    }

    /// Opens a block another process created.
    pub fn open(path: &str) -> BenchResult<SharedBlock> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| format!("opening {path}: {e}"))?;
        Self::map(file, PathBuf::from(path), false)
    }

    /// The file's path, to hand to a child.
    pub fn path_string(&self) -> String {
        self.path.display().to_string()
    }

    /// Control line `index` as a 64-bit word.
    pub fn line(&self, index: usize) -> &AtomicU64 {
        assert!(
            index < CONTROL_BYTES / LINE,
            "control line {index} out of range"
        );
        // SAFETY: the word is inside the mapping (checked above, the mapping is at
        // least CONTROL_BYTES long), 8-byte aligned (the mapping is page-aligned and
        // the offset a multiple of 128), lives as long as `&self`, and the control
        // area is only ever accessed through atomics, in every process.
        unsafe { &*(self.map.as_ptr().add(index * LINE) as *const AtomicU64) }
    }

    /// The low 32 bits of control line `index`, as a futex word.
    pub fn futex(&self, index: usize) -> &AtomicU32 {
        assert!(
            index < CONTROL_BYTES / LINE,
            "control line {index} out of range"
        );
        // SAFETY: as in `line`; a line used as a futex word is only accessed
        // as this 32-bit atomic (never also as the 64-bit word).
        unsafe { &*(self.map.as_ptr().add(index * LINE) as *const AtomicU32) }
    }

    /// Start of the data area.
    pub fn data_ptr(&self) -> *mut u8 {
        // SAFETY: CONTROL_BYTES is within the mapping (checked at map time).
        unsafe { self.map.as_ptr().add(CONTROL_BYTES) as *mut u8 }
    }

    /// The data area as 64-bit words, for a block whose data area is only
    /// accessed through atomics (the plain copies below are `unsafe` and
    /// require that nobody else touches their range meanwhile).
    pub fn data_words(&self) -> &[AtomicU64] {
        // SAFETY: the data area starts page-aligned plus CONTROL_BYTES (so
        // 8-aligned), holds `data_len() / 8` whole words inside the mapping,
        // and lives as long as `&self`; other processes change it concurrently
        // only through atomics or under the plain copies' exclusive contract.
        unsafe {
            std::slice::from_raw_parts(self.data_ptr() as *const AtomicU64, self.data_len() / 8)
        }
    }

    /// Bytes in the data area.
    pub fn data_len(&self) -> usize {
        self.map.len() - CONTROL_BYTES
    }

    /// Copies `src` into the data area at `offset`.
    ///
    /// # Safety
    /// No other process may access `offset..offset + src.len()` of the data
    /// area until a Release store on a control line publishes the copy.
    pub unsafe fn write_data(&self, offset: usize, src: &[u8]) {
        assert!(
            offset + src.len() <= self.data_len(),
            "data write out of range"
        );
        let dst = self.data_ptr().wrapping_add(offset);
        for (k, chunk) in src.chunks(COPY_CHUNK).enumerate() {
            // SAFETY: in range (asserted above); exclusive by the caller's
            // contract; `src` is process memory, so the ranges do not overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(chunk.as_ptr(), dst.add(k * COPY_CHUNK), chunk.len())
            }
        }
    }

    /// Copies `dst.len()` bytes of the data area at `offset` into `dst`.
    ///
    /// # Safety
    /// No other process may write that range during the copy: the writer
    /// published it with a Release store this process loaded with Acquire, and
    /// will not write it again before this process says it is done.
    pub unsafe fn read_data(&self, offset: usize, dst: &mut [u8]) {
        assert!(
            offset + dst.len() <= self.data_len(),
            "data read out of range"
        );
        let src = self.data_ptr().wrapping_add(offset) as *const u8;
        for (k, chunk) in dst.chunks_mut(COPY_CHUNK).enumerate() {
            // SAFETY: in range (asserted above); no concurrent writer by the
            // caller's contract; `dst` is process memory, so no overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    src.add(k * COPY_CHUNK),
                    chunk.as_mut_ptr(),
                    chunk.len(),
                )
            }
        }
    }

    /// Waits until `count` children have marked themselves ready.
    pub fn wait_ready(&self, count: u64) -> BenchResult<()> {
        use std::sync::atomic::Ordering::Acquire;
        let start = std::time::Instant::now();
        // Pairs with the children's Release increment after they attached.
        while self.line(READY).load(Acquire) < count {
            if start.elapsed() > std::time::Duration::from_secs(20) {
                return Err("benchmark children did not start within 20 s".into());
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        Ok(())
    }

    /// Marks this child ready.
    pub fn mark_ready(&self) {
        // Pairs with the Acquire load in `wait_ready`.
        self.line(READY)
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }
}

impl Drop for SharedBlock {
    fn drop(&mut self) {
        if self.owner {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
