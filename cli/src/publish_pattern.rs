//! `shmframe publish --pattern`: the animated test pattern, drawn straight into the slots.

use crate::fail::CliResult;
use crate::pace::{period_of, Pacer};
use crate::pattern::Pattern;
use crate::publish_args::PublishArgs;
use crate::size::Size;
use crate::status::StatusLine;
use crate::stop::Stop;
use shmframe::{monotonic_ns, Writer};

/// Frame rate of the pattern without --fps.
const DEFAULT_FPS: f64 = 60.0;

/// Runs `publish --pattern` until a stop.
pub fn run(args: &PublishArgs, size: Size) -> CliResult<()> {
    let mut pattern = Pattern::new(size);
    let meta = pattern.meta();
    let stop = Stop::install()?;
    let mut writer = Writer::create(&args.name, &args.writer_options(meta.checked_len()?))?;
    let fps = args.fps.unwrap_or(DEFAULT_FPS);
    args.say(&format!(
        "publishing a {size} test pattern at {fps} fps as `{}`; Ctrl-C to stop",
        args.name
    ));
    let mut pacer = Pacer::new();
    let mut status = StatusLine::new(&args.name, args.quiet);
    while !pacer.wait(&stop) {
        let number = writer.frames_published() + 1;
        let now = monotonic_ns();
        writer.publish_with(&meta, |fill| pattern.fill(number, now, fill))?;
        pacer.advance(period_of(fps));
        status.frame(number, pacer.skipped());
    }
    Ok(())
}
