//! Moving bytes in and out of shared words without data races.
//!
//! The writer may be changing a slot while a reader copies it; the seqlock
//! throws such a copy away afterwards, but the copy itself must not be a data
//! race. Two copies do this, chosen here at compile time:
//!
//! - On x86-64, outside Miri and loom, `copy_fast.rs`: `rep movsb` in inline
//!   assembly, a byte-wise atomic copy that runs at memory speed (its module
//!   docs give the soundness argument).
//! - Everywhere else, the word copy below: Relaxed atomic loads and stores of
//!   whole 64-bit words (little-endian), which the seqlock's fences order. Miri
//!   and loom check the protocol with this one; on x86-64 and AArch64 it
//!   compiles to plain word moves, at 0.7-0.85x of `memcpy`'s speed.

#[cfg(all(target_arch = "x86_64", not(miri), not(loom)))]
pub(crate) use crate::copy_fast::{load_bytes, store_bytes_at};
#[cfg(not(all(target_arch = "x86_64", not(miri), not(loom))))]
pub(crate) use words::{load_bytes, store_bytes_at};

/// The atomic-word copy.
#[cfg_attr(all(target_arch = "x86_64", not(miri), not(loom)), allow(dead_code))]
pub(crate) mod words {
    use crate::sync::{AtomicU64, Ordering::Relaxed};

    /// Stores `src` into the bytes of `dst` starting at byte `offset`.
    ///
    /// Bytes of partly covered words outside `offset..offset + src.len()` keep
    /// their values; only the single writer may call this, since it reads back
    /// those words before storing them.
    ///
    /// Panics if the range does not fit in `dst`.
    pub(crate) fn store_bytes_at(dst: &[AtomicU64], offset: usize, mut src: &[u8]) {
        let end = offset
            .checked_add(src.len())
            .filter(|&end| end <= dst.len() * 8)
            .expect("byte range outside the slot");
        let mut word = offset / 8;
        let head = offset % 8;
        if head != 0 && !src.is_empty() {
            let n = src.len().min(8 - head);
            merge_word(&dst[word], head, &src[..n]);
            src = &src[n..];
            word += 1;
        }
        let mut chunks = src.chunks_exact(8);
        for (cell, chunk) in dst[word..].iter().zip(&mut chunks) {
            let bytes: [u8; 8] = chunk.try_into().expect("chunks_exact yields 8 bytes");
            cell.store(u64::from_le_bytes(bytes), Relaxed);
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            merge_word(&dst[(end - 1) / 8], 0, tail);
        }
    }

    /// Replaces bytes `at..at + bytes.len()` of one word, keeping the others.
    fn merge_word(cell: &AtomicU64, at: usize, bytes: &[u8]) {
        let mut le = cell.load(Relaxed).to_le_bytes();
        le[at..at + bytes.len()].copy_from_slice(bytes);
        cell.store(u64::from_le_bytes(le), Relaxed);
    }

    /// Copies the first `dst.len()` bytes held in `src` into `dst`.
    ///
    /// Panics if `src` holds fewer bytes.
    pub(crate) fn load_bytes(src: &[AtomicU64], dst: &mut [u8]) {
        assert!(dst.len() <= src.len() * 8, "byte range outside the slot");
        let last_word = dst.len().saturating_sub(1) / 8;
        let mut chunks = dst.chunks_exact_mut(8);
        for (chunk, cell) in (&mut chunks).zip(src) {
            chunk.copy_from_slice(&cell.load(Relaxed).to_le_bytes());
        }
        let tail = chunks.into_remainder();
        if !tail.is_empty() {
            let last = src[last_word].load(Relaxed).to_le_bytes();
            let n = tail.len();
            tail.copy_from_slice(&last[..n]);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::sync::{AtomicU64, Ordering::Relaxed};

    type Store = fn(&[AtomicU64], usize, &[u8]);
    type Load = fn(&[AtomicU64], &mut [u8]);

    /// The copy in use, and the word copy (the same one where no faster exists).
    const COPIES: [(&str, Store, Load); 2] = [
        ("in use", super::store_bytes_at, super::load_bytes),
        (
            "words",
            super::words::store_bytes_at,
            super::words::load_bytes,
        ),
    ];

    fn words(n: usize) -> Vec<AtomicU64> {
        (0..n).map(|_| AtomicU64::new(u64::MAX)).collect()
    }

    fn bytes_of(cells: &[AtomicU64]) -> Vec<u8> {
        cells
            .iter()
            .flat_map(|c| c.load(Relaxed).to_le_bytes())
            .collect()
    }

    /// Short lengths, and lengths around the fast copy's switch from 8-byte
    /// moves to `rep movsb`.
    fn lengths() -> impl Iterator<Item = usize> {
        (0..26).chain(120..=136).chain(250..=260)
    }

    #[test]
    fn store_at_every_offset_and_length_touches_only_its_range() {
        for (copy, store, _) in COPIES {
            for offset in 0..17 {
                for len in lengths() {
                    let cells = words((offset + len) / 8 + 2);
                    let src: Vec<u8> = (0..len).map(|b| b as u8 ^ 0x5A).collect();
                    store(&cells, offset, &src);
                    let got = bytes_of(&cells);
                    let mut want = vec![0xFF; cells.len() * 8];
                    want[offset..offset + len].copy_from_slice(&src);
                    assert_eq!(got, want, "{copy}: offset {offset} len {len}");
                }
            }
        }
    }

    #[test]
    fn load_round_trips_any_length() {
        for (copy, store, load) in COPIES {
            let cells = words(33);
            let src: Vec<u8> = (0..264).map(|b| b as u8 ^ 0xA5).collect();
            store(&cells, 0, &src);
            for len in lengths() {
                let mut out = vec![0u8; len];
                load(&cells, &mut out);
                assert_eq!(out, src[..len], "{copy}: len {len}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "outside the slot")]
    fn store_past_the_end_panics() {
        super::store_bytes_at(&words(1), 4, &[0; 5]);
    }

    #[test]
    #[should_panic(expected = "outside the slot")]
    fn load_past_the_end_panics() {
        super::load_bytes(&words(1), &mut [0; 9]);
    }
}
