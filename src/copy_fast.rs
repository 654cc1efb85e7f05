//! The payload copy on the real mapping: x86-64 `rep movsb`, at memory speed
//! (and, for small copies, where its start-up costs more than the copy, a
//! loop of 8-byte moves).
//!
//! # Why this is sound
//!
//! A reader copies a slot's payload while the writer may be storing into it;
//! the seqlock throws such a copy away afterwards, but the copy itself must not
//! be a data race, which a plain `memcpy` (or a volatile copy) would be. An
//! inline-assembly block is opaque to the compiler: its effect on memory is
//! the hardware's, and the Rust reference lets it stand for any sequence of
//! operations Rust itself could perform that has that effect. On x86-64 every
//! byte load and byte store of `rep movsb` is single-copy atomic (an aligned
//! byte access cannot tear), so the block is exactly a loop of Relaxed
//! `AtomicU8` loads and stores: the byte-wise atomic memcpy of C++ proposal
//! P1478. The small-copy loop's 8-byte `mov`s are the same: an 8-byte access,
//! even one that is unaligned or split across cache lines, never tears a byte,
//! so each is eight Relaxed byte accesses performed at once. Relaxed atomic
//! accesses may race; the seqlock's fences order them as they order the word
//! copy's Relaxed loads and stores (writer: odd sequence,
//! Release fence, payload, Release store of the even sequence; reader: Acquire
//! load of the sequence, payload, Acquire fence, sequence again).
//!
//! The hardware keeps that ordering too: the stores inside one string
//! operation may complete out of order among themselves, but string operations
//! are not reordered with other stores (Intel SDM vol. 3, "Fast-String
//! Operation and Out-of-Order Stores"; AMD documents the same), and
//! the block is not `nomem`, so the compiler moves no memory access across it.
//!
//! Sizes never mix on the payload: with this module in use the writer stores
//! every payload byte through it and readers load every payload byte through
//! it, so no 64-bit atomic access overlaps a byte access of another thread.
//! (Slot headers are still accessed as 64-bit atomic words, on both sides.)
//!
//! Miri and loom cannot see through assembly, so they run the atomic-word copy
//! in `copy.rs` instead; both copies have the same effect on the bytes.

use crate::sync::AtomicU64;

/// Stores `src` into the bytes of `dst` starting at byte `offset`.
///
/// Panics if the range does not fit in `dst`.
pub(crate) fn store_bytes_at(dst: &[AtomicU64], offset: usize, src: &[u8]) {
    offset
        .checked_add(src.len())
        .filter(|&end| end <= std::mem::size_of_val(dst))
        .expect("byte range outside the slot");
    // `AtomicU64` is an `UnsafeCell`, so storing through a pointer derived from
    // a shared reference to it is allowed.
    let to = dst.as_ptr().cast::<u8>().cast_mut();
    // SAFETY: `offset + src.len()` bytes lie inside `dst` (checked above), so
    // `to + offset` is valid for `src.len()` byte writes; `src` is valid for as
    // many reads and cannot overlap shared words that we only hold as atomics.
    // The writes are byte-wise atomic (see the module docs).
    unsafe { copy_bytes(to.add(offset), src.as_ptr(), src.len()) }
}

/// Copies the first `dst.len()` bytes held in `src` into `dst`.
///
/// Panics if `src` holds fewer bytes.
pub(crate) fn load_bytes(src: &[AtomicU64], dst: &mut [u8]) {
    assert!(
        dst.len() <= std::mem::size_of_val(src),
        "byte range outside the slot"
    );
    // SAFETY: `src` holds at least `dst.len()` bytes (checked above); `dst` is
    // an exclusive buffer of that length, so the ranges cannot overlap. The
    // reads are byte-wise atomic (see the module docs), so racing the writer's
    // stores is not a data race; the seqlock discards a torn copy.
    unsafe { copy_bytes(dst.as_mut_ptr(), src.as_ptr().cast::<u8>(), dst.len()) }
}

/// Below this many bytes a loop of 8-byte moves is faster than `rep movsb`,
/// whose start-up dominates (64 bytes: 2.0 ns against 3.8 ns on the
/// benchmark machine, an AMD EPYC).
const SMALL_COPY: usize = 128;

/// Copies `len` bytes from `src` to `dst`, each byte one atomic access.
///
/// # Safety
///
/// As [`rep_movsb`].
#[inline]
unsafe fn copy_bytes(dst: *mut u8, src: *const u8, len: usize) {
    // SAFETY: both copies have `rep_movsb`'s contract, which the caller keeps.
    unsafe {
        if len < SMALL_COPY {
            move_words(dst, src, len)
        } else {
            rep_movsb(dst, src, len)
        }
    }
}

/// Copies `len` bytes from `src` to `dst` eight at a time, then the rest one
/// by one; each byte one atomic access (see the module docs).
///
/// # Safety
///
/// As [`rep_movsb`].
#[inline]
unsafe fn move_words(dst: *mut u8, src: *const u8, len: usize) {
    // SAFETY: the caller guarantees `len` readable bytes at `src` and `len`
    // writable ones at `dst`, not overlapping; the loop touches exactly those
    // (8 at a time while at least 8 remain, then single bytes) and no stack.
    unsafe {
        std::arch::asm!(
            "2:",
            "cmp {len}, 8",
            "jb 3f",
            "mov {tmp}, qword ptr [{src}]",
            "mov qword ptr [{dst}], {tmp}",
            "add {src}, 8",
            "add {dst}, 8",
            "sub {len}, 8",
            "jmp 2b",
            "3:",
            "test {len}, {len}",
            "jz 4f",
            "mov {tmp:l}, byte ptr [{src}]",
            "mov byte ptr [{dst}], {tmp:l}",
            "inc {src}",
            "inc {dst}",
            "dec {len}",
            "jmp 3b",
            "4:",
            len = inout(reg) len => _,
            src = inout(reg) src => _,
            dst = inout(reg) dst => _,
            tmp = out(reg) _,
            options(nostack),
        );
    }
}

/// `rep movsb`: copies `len` bytes from `src` to `dst`, each byte one atomic access.
///
/// # Safety
///
/// `src` must be valid for `len` byte reads and `dst` for `len` byte writes,
/// and the ranges must not overlap. Any other party touching these bytes
/// concurrently must do so atomically.
#[inline]
unsafe fn rep_movsb(dst: *mut u8, src: *const u8, len: usize) {
    // SAFETY: the caller guarantees both ranges; the Rust inline-assembly ABI
    // guarantees the direction flag is clear on entry, so the copy runs
    // forwards, and `rep movsb` changes no flags and uses no stack.
    unsafe {
        std::arch::asm!(
            "rep movsb",
            inout("rcx") len => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags),
        );
    }
}
