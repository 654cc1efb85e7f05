//! The writer's side of holds: finding readers' hold files and deciding which
//! of their entries it honours.
//!
//! Readers write their holds into files of their own (`hold_file.rs`). The
//! writer honours at most `holds` entries in all (`Geometry::holds`), one
//! per ticket: ticket word `t` in the segment's tail names the hold file (by
//! inode number) and entry it belongs to. Only the writer stores tickets,
//! and it stores one only after it has added the entry to those it looks at
//! before it reuses a slot, so a reader that sees its ticket (Acquire) may
//! claim holds through that entry at once. A ticket is taken back only when
//! its file's lock is gone (its reader closed the file or died), never from
//! a live reader: a hold that was granted stays honoured.
//!
//! The writer looks for new files when a reader asks (a counter in the wake
//! file, at most every `RESCAN_EVERY`) and on its own every `SCAN_EVERY`;
//! both happen inside a publish and cost a directory listing, never a wait:
//! files are opened non-blocking, mapped read-only and protected against
//! truncation (`sigbus`). Whatever a reader writes only changes which of its
//! own entries name which slot, and at most `holds` entries count in all.

use crate::files::remove_dead_files_of_ours;
use crate::layout::{hold, ticket_word, MAX_HOLDS};
use crate::liveness::writer_lock_held;
use crate::protocol::{HoldEntries, Region};
use crate::sigbus::{self, Protected};
use crate::sync::{AtomicU64, Ordering::*};
use memmap2::{MmapOptions, MmapRaw};
use rustix::fs::{Mode, OFlags};
use std::fs::File;
use std::os::unix::fs::{DirEntryExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Shortest time between two scans a reader asked for.
const RESCAN_EVERY_NS: u64 = 5_000_000;
/// Longest time between two scans (to take back the tickets of dead readers).
const SCAN_EVERY_NS: u64 = 1_000_000_000;
/// Most hold files the writer maps at once (more are left for later scans).
const MAX_FILES: usize = 64;

/// A reader's hold file, mapped read-only by the writer.
struct KnownFile {
    // Field order matters for drop: unprotect, unmap, close.
    _protected: Protected,
    map: MmapRaw,
    file: File,
    inode: u64,
    name: std::ffi::OsString,
}

impl KnownFile {
    #[inline]
    fn word(&self, index: usize) -> &AtomicU64 {
        assert!(index < hold::FILE_SIZE / 8);
        // SAFETY: the mapping is page-aligned and `FILE_SIZE` bytes long, so
        // word `index` is inside it and 8-aligned; it lives as long as
        // `self`. Its reader stores to it concurrently, only atomically (or,
        // if hostile, in ways that change what a load returns, never whether
        // it is sound); truncation is covered by `sigbus`. We only load.
        unsafe { &*self.map.as_ptr().add(index * 8).cast::<AtomicU64>() }
    }
}

/// One honoured entry: which file (position in `files`), which entry, which ticket.
#[derive(Clone, Copy)]
struct Honoured {
    file: usize,
    entry: usize,
    ticket: usize,
}

/// The hold files a writer knows and the entries it honours.
pub(crate) struct HoldRegistry {
    dir: PathBuf,
    prefix: String,
    files: Vec<Option<KnownFile>>,
    honoured: Vec<Honoured>,
    /// Files (inode and name) found dead or unusable at the last scan.
    ignored: Vec<(u64, std::ffi::OsString)>,
    last_scan_ns: u64,
    seen_rescan: u64,
}

impl HoldRegistry {
    /// The registry of the segment whose hold files start with `prefix` in `dir`.
    pub(crate) fn new(dir: &Path, prefix: String) -> HoldRegistry {
        HoldRegistry {
            dir: dir.to_path_buf(),
            prefix,
            files: Vec::new(),
            honoured: Vec::new(),
            ignored: Vec::new(),
            last_scan_ns: 0,
            seen_rescan: 0,
        }
    }

    /// Scans for hold files if a reader asked (`rescan` is the wake file's
    /// counter) or it is time; `now_ns` is CLOCK_MONOTONIC (coarse will do).
    pub(crate) fn maintain(&mut self, region: &Region<'_>, rescan: u64, now_ns: u64) {
        let since = now_ns.saturating_sub(self.last_scan_ns);
        let asked = rescan != self.seen_rescan && since >= RESCAN_EVERY_NS;
        if asked || since >= SCAN_EVERY_NS {
            self.seen_rescan = rescan;
            self.last_scan_ns = now_ns;
            self.scan(region);
        }
    }

    /// Takes back the tickets of dead readers, maps new hold files and hands
    /// out free tickets.
    pub(crate) fn scan(&mut self, region: &Region<'_>) {
        let mut any_dead = false;
        for at in 0..self.files.len() {
            let dead = self.files[at]
                .as_ref()
                .is_some_and(|known| !writer_lock_held(&known.file));
            if dead {
                self.forget(region, at);
                any_dead = true;
            }
        }
        if any_dead {
            // A killed reader cannot remove its file; if it was ours, we can.
            remove_dead_files_of_ours(&self.dir, &[&self.prefix]);
        }
        self.find_new_files();
        self.grant(region);
    }

    /// Stops honouring file `at` (its reader is gone) and frees its tickets.
    fn forget(&mut self, region: &Region<'_>, at: usize) {
        for honoured in self.honoured.iter().filter(|h| h.file == at) {
            // No reader relies on it: its owner is gone.
            region.ticket(honoured.ticket).store(0, Release);
        }
        self.honoured.retain(|h| h.file != at);
        if let Some(known) = self.files[at].take() {
            self.ignored.push((known.inode, known.name));
        }
    }

    /// Maps the hold files not seen before.
    fn find_new_files(&mut self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut still_there = Vec::new();
        for entry in entries.flatten() {
            if !entry
                .file_name()
                .to_string_lossy()
                .starts_with(&self.prefix)
            {
                continue;
            }
            let seen = (entry.ino(), entry.file_name());
            let known = self.files.iter().flatten().any(|f| f.inode == seen.0);
            if known {
                continue;
            }
            if self.ignored.contains(&seen) {
                still_there.push(seen);
                continue;
            }
            if self.files.iter().flatten().count() >= MAX_FILES {
                continue;
            }
            match open_hold_file(&entry.path()) {
                Some(known) => match self.files.iter().position(Option::is_none) {
                    Some(free) => self.files[free] = Some(known),
                    None => self.files.push(Some(known)),
                },
                None => still_there.push(seen),
            }
        }
        // Forget what is gone, so a reused inode number is looked at again.
        self.ignored = still_there;
    }

    /// Hands free tickets to live files that ask for more entries, first come first served.
    fn grant(&mut self, region: &Region<'_>) {
        let holds = region.geometry().holds;
        for at in 0..self.files.len() {
            let Some(known) = &self.files[at] else {
                continue;
            };
            let wanted = (known.word(hold::WANTED).load(Relaxed) as usize)
                .min(hold::MAX_ENTRIES)
                .min(holds);
            let inode = known.inode;
            for entry in 0..wanted {
                if self
                    .honoured
                    .iter()
                    .any(|h| h.file == at && h.entry == entry)
                {
                    continue;
                }
                let Some(ticket) =
                    (0..holds).find(|&t| self.honoured.iter().all(|h| h.ticket != t))
                else {
                    return;
                };
                let Some(word) = ticket_word(inode, entry) else {
                    break;
                };
                // Honoured from now on, before the reader can know it.
                self.honoured.push(Honoured {
                    file: at,
                    entry,
                    ticket,
                });
                // Pairs with the reader's Acquire load of the ticket.
                region.ticket(ticket).store(word, Release);
            }
        }
    }
}

impl HoldEntries for HoldRegistry {
    fn load_all(&self, out: &mut [u64; MAX_HOLDS]) -> usize {
        let mut count = 0;
        for (honoured, out) in self.honoured.iter().zip(out.iter_mut()) {
            if let Some(known) = &self.files[honoured.file] {
                // Pairs with the reader's Release store of 0 when it lets go.
                *out = known.word(hold::FIRST_ENTRY + honoured.entry).load(Acquire);
                count += 1;
            }
        }
        count
    }

    fn honoured(&self) -> usize {
        self.honoured.len()
    }
}

/// Opens and maps a hold file read-only; `None` if it is not one, or its
/// reader is already gone.
fn open_hold_file(path: &Path) -> Option<KnownFile> {
    // Non-blocking: a FIFO planted under the name cannot make us wait.
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let file = File::from(fd);
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() < hold::FILE_SIZE as u64 || !writer_lock_held(&file) {
        return None;
    }
    let map = MmapOptions::new()
        .len(hold::FILE_SIZE)
        .map_raw_read_only(&file)
        .ok()?;
    let known = KnownFile {
        _protected: sigbus::protect(map.as_ptr(), hold::FILE_SIZE, false),
        map,
        inode: meta.ino(),
        name: path.file_name().unwrap_or_default().to_os_string(),
        file,
    };
    (known.word(0).load(Relaxed) == hold::MAGIC).then_some(known)
}
