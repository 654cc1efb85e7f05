#!/usr/bin/env bash
# Shows that the loom models can fail: breaks one ordering (or one line of
# bookkeeping) at a time in a scratch copy of the tree, runs the models, and
# prints which model caught it. Every mutation must be caught. With an
# argument, runs only the mutations whose label contains it (a run of the
# models takes up to four minutes, all 22 about 26). MODELS=filter runs only
# the models whose name contains it (quicker, for the hold mutations: hold).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
tar -C "$root" --exclude=./target --exclude=./fuzz -cf - . | tar -C "$scratch" -xf -
file="$scratch/src/protocol.rs"
escaped=0

only="${1:-}"

mutate() { # label, then pairs of old text, new text
    if [[ "$1" != *"$only"* ]]; then
        return
    fi
    cp "$file" "$file.orig"
    if ! python3 - "$file" "${@:2}" <<'PY'
import sys
path, pairs = sys.argv[1], sys.argv[2:]
text = open(path).read()
for old, new in zip(pairs[::2], pairs[1::2]):
    assert old in text, "mutation no longer applies: " + old
    text = text.replace(old, new, 1)
open(path, "w").write(text)
PY
    then
        # Testing the unchanged tree would run the last mutant's stale build.
        mv "$file.orig" "$file"
        printf '%-55s %s\n' "$1" "DOES NOT APPLY: update the mutation"
        escaped=1
        return
    fi
    out=$(cd "$scratch" && RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$root/target/loom-mutations" \
        timeout 900 cargo test -p loom-tests --release --test protocol -- ${MODELS:-} 2>&1)
    mv "$file.orig" "$file"
    caught=$(echo "$out" | grep -E "^test .* FAILED$" | sed 's/^test //; s/ \.\.\. FAILED//' | tr '\n' ' ')
    if echo "$out" | grep -q "deadlock"; then caught="$caught(deadlock: waiting_reader_is_never_left_asleep)"; fi
    if [ -z "$caught" ]; then caught="NOT CAUGHT"; escaped=1; fi
    printf '%-55s %s\n' "$1" "$caught"
}

mutate "writer: no Release fence after the odd seq" $'            fence(Release);\n            return (own, odd);' '            return (own, odd);'
mutate "writer: even seq stored Relaxed" 'slot_words[slot::SEQ].store(odd.wrapping_add(1), Release);' 'slot_words[slot::SEQ].store(odd.wrapping_add(1), Relaxed);'
mutate "writer: a panicking fill leaves its slot odd (no guard, odd as seq + 1)" \
    '        self.slot_words[slot::SEQ].store(self.even, Release);' '        let _ = self.even;' \
    'seq_word.load(Relaxed) | 1;' 'seq_word.load(Relaxed).wrapping_add(1);'
mutate "writer: latest stored Relaxed" 'region.header(header::LATEST).store(index, Release);' 'region.header(header::LATEST).store(index, Relaxed);'
mutate "writer: futex bump Relaxed" '    region.futex.store(ticket, Release);' '    region.futex.store(ticket, Relaxed);'
mutate "writer: no wake after publishing" $'    if wake {\n        futex::wake_all(region.futex);' $'    if wake {\n        let _ = region.futex;'
mutate "writer: no SeqCst fence before reading asleep_after" $'    fence(SeqCst);\n    // A sleeper that saw' '    // A sleeper that saw'
mutate "writer: wakes only for sleepers after this frame" 'region.asleep_after.load(Relaxed) >= number;' 'region.asleep_after.load(Relaxed) > number;'
mutate "sleeper: no SeqCst fence after registering" $'        fence(SeqCst);\n        futex::wait_until' '        futex::wait_until'
mutate "sleeper: registration overwrites, not a maximum" '.fetch_max(latest.saturating_add(1), Relaxed);' '.store(latest.saturating_add(1), Relaxed);'
mutate "reader: first seq load Relaxed" \
    $'    // Pairs with the writer\'s Release stores of the even sequence value.\n    let seq = words[slot::SEQ].load(Acquire);' \
    $'    // Pairs with the writer\'s Release stores of the even sequence value.\n    let seq = words[slot::SEQ].load(Relaxed);'
mutate "reader: no Acquire fence before the second seq load" $'    fence(Acquire);\n    seq_word.load(Relaxed) == seq' '    seq_word.load(Relaxed) == seq'
mutate "reader: no seqlock check after the copy's last chunk" \
    $'    if !unchanged(&words[slot::SEQ], seq) {\n        return Ok(SlotRead::Busy);\n    }\n    if meta[0] == 0' $'    if meta[0] == 0'
mutate "reader: futex ticket loaded after loading latest" $'        let ticket = self.futex.load(Acquire);\n        let latest = self.latest();' $'        let latest = self.latest();\n        let ticket = self.futex.load(Acquire);'
mutate "in-order reader: its first look takes whatever frame the slot holds" \
    'SlotRead::Frame(index) if index == self.next)' 'SlotRead::Frame(_))'
mutate "in-order reader: a skipped frame not counted" $'        self.missed = self.missed.saturating_add(1);\n        self.next = self.next.saturating_add(1);\n    }' $'        self.next = self.next.saturating_add(1);\n    }'
mutate "holds, writer: a Release fence, not SeqCst, after marking its pick" \
    $'        // readers as the Release fence does without holds.\n        fence(SeqCst);' $'        // readers as the Release fence does without holds.\n        fence(Release);'
mutate "holds, writer: takes its pick without the look after the fence" \
    $'        if !self.held(pick, &entries[..count]) {\n            return (pick, odd);' $'        if true {\n            return (pick, odd);'
mutate "holds, writer: picks slots without looking at the holds" \
    ' && allowed(at) && !self.held(at, entries);' ' && allowed(at);'
mutate "holds, reader: no SeqCst fence between its entry and the slot" \
    $'    fence(SeqCst);\n    let words = region.slot(at);' '    let words = region.slot(at);'
mutate "holds, reader: granted without checking the slot's index" \
    'if seq & 1 == 1 || held_index != index {' 'if seq & 1 == 1 {'
mutate "holds, writer: fills the ring in turn while holds are granted" \
    'region.geometry.holds == 0 || region.holds.honoured() == 0' 'region.geometry.holds == 0 || region.holds.honoured() < 64'
exit $escaped
