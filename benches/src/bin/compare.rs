//! Runs every benchmark once, briefly, and prints a comparison table (or JSON).
//!
//! `cargo run --release -p shmframe-benches --bin compare -- [--quick] [--json] [--only PART]`
//!
//! `--only PART` measures only the cases whose name contains `PART` (e.g.
//! `--only hold`: the zero-copy latency cases and the writer with holding readers).

const USAGE: &str = "usage: compare [--quick] [--json] [--only PART]";

fn main() {
    shmframe_benches::child_entry();
    let mut quick = false;
    let mut json = false;
    let mut only = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--json" => json = true,
            "--only" => match args.next() {
                // One string for the whole run: leaked, so the plan stays `Copy`.
                Some(part) => only = Some(&*Box::leak(part.into_boxed_str())),
                None => {
                    eprintln!("compare: --only needs part of a case name\n{USAGE}");
                    std::process::exit(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => {
                eprintln!("compare: unknown argument `{other}`\n{USAGE}");
                std::process::exit(2);
            }
        }
    }
    let plan = shmframe_measure::Plan { quick, only };
    let start = std::time::Instant::now();
    let result = shmframe_benches::compare::run_all(plan, |case| {
        eprintln!(
            "[{:5.1} s] measuring {case} ...",
            start.elapsed().as_secs_f64()
        )
    });
    shmframe_benches::cleanup();
    match result {
        Ok(all) => {
            eprintln!("[{:5.1} s] done", start.elapsed().as_secs_f64());
            eprint!("{}", shmframe_measure::report::table(&all));
            if json {
                println!("{}", shmframe_measure::report::json(&all));
            } else {
                print!("{}", shmframe_measure::report::table(&all));
            }
        }
        Err(e) => {
            eprintln!("compare: {e}");
            std::process::exit(1);
        }
    }
}
