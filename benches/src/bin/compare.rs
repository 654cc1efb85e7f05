//! Runs every benchmark once, briefly, and prints a comparison table (or JSON).
//!
//! `cargo run --release -p shmframe-benches --bin compare -- [--quick] [--json]`

fn main() {
    shmframe_benches::child_entry();
    let mut quick = false;
    let mut json = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => quick = true,
            "--json" => json = true,
            "-h" | "--help" => {
                println!("usage: compare [--quick] [--json]");
                return;
            }
            other => {
                eprintln!("compare: unknown argument `{other}` (try --quick, --json)");
                std::process::exit(2);
            }
        }
    }
    let plan = shmframe_measure::Plan { quick };
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
