//! Building and running the C test programs: the library is built by cargo,
//! each program compiled by gcc (as C) and g++ (as C++) against it, and run
//! with its own segment directory and a time limit.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long one C program may run before it counts as hung.
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

/// The crate's directory (capi/).
pub fn capi_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The profile directory this test binary was built in (target/debug).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/debug/deps/c_programs-HASH -> target/debug
    exe.parent()
        .and_then(Path::parent)
        .expect("target/PROFILE")
        .to_path_buf()
}

/// Builds libshmframe (once per test binary) and returns a directory where it
/// is found under both its link name and its soname (libshmframe.so.0).
pub fn library_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build_library(&profile_dir(), None))
}

/// libshmframe for valgrind (once per test binary): rustix's raw-syscall
/// backend reads the vDSO in a way valgrind cannot follow (rustix issue
/// #1559), so this build uses its libc backend, in a target directory of its own.
pub fn valgrind_library_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target = profile_dir().parent().unwrap().join("valgrind");
        let profile = target.join(profile_dir().file_name().unwrap());
        build_library(&profile, Some((&target, "--cfg rustix_use_libc")))
    })
}

/// Runs cargo build for the library into `profile` (with another target
/// directory and RUSTFLAGS if given) and links it under its soname.
fn build_library(profile: &Path, other: Option<(&Path, &str)>) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut build = Command::new(cargo);
    build.args(["build", "-p", "shmframe-capi"]);
    if profile.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    if let Some((target, rustflags)) = other {
        build
            .env("CARGO_TARGET_DIR", target)
            .env("RUSTFLAGS", rustflags);
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "cargo build -p shmframe-capi failed");
    let built = profile.join("libshmframe.so");
    assert!(
        built.is_file(),
        "no libshmframe.so in {}",
        profile.display()
    );
    let lib = profile.join("capi-c-tests/lib");
    std::fs::create_dir_all(&lib).unwrap();
    for name in ["libshmframe.so", "libshmframe.so.0"] {
        let link = lib.join(name);
        std::fs::remove_file(&link).ok();
        std::os::unix::fs::symlink(&built, &link).unwrap();
    }
    lib
}

/// The language a test program is compiled as.
#[derive(Clone, Copy, Debug)]
pub enum Lang {
    C,
    Cxx,
}

/// Compiles `capi/tests/c/NAME.c` as `lang` against the library; returns the program.
pub fn compile(name: &str, lang: Lang) -> PathBuf {
    compile_against(name, lang, library_dir())
}

/// Compiles `capi/tests/c/NAME.c` as `lang` against the library in `lib`
/// (the program lands beside `lib`), once per test binary: tests running in
/// parallel share the program instead of overwriting it under each other.
pub fn compile_against(name: &str, lang: Lang, lib: &Path) -> PathBuf {
    static COMPILED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let (compiler, suffix, flags): (&str, &str, &[&str]) = match lang {
        Lang::C => ("gcc", "c", &["-std=c11", "-pedantic"]),
        Lang::Cxx => ("g++", "cxx", &["-x", "c++", "-std=c++17"]),
    };
    let exe = lib.parent().unwrap().join(format!("{name}-{suffix}"));
    let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    if compiled.contains(&exe) {
        return exe;
    }
    let mut compile = Command::new(compiler);
    compile
        .args(flags)
        .args(["-g", "-O1", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE"])
        .arg("-I")
        .arg(capi_dir().join("include"))
        .arg(capi_dir().join("tests/c").join(format!("{name}.c")))
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lshmframe", "-lpthread"]);
    run_succeeding(compile);
    compiled.push(exe.clone());
    exe
}

/// Compiles tests/cxx/header_test.cpp (the C++ header's test) with `flags`
/// and libraries `libs` against the library in `lib`; returns the program.
pub fn compile_header_test(lib: &Path, exe_name: &str, flags: &[&str], libs: &[&str]) -> PathBuf {
    let exe = lib.parent().unwrap().join(exe_name);
    let mut compile = Command::new("g++");
    compile
        .args(["-g", "-Wall", "-Wextra", "-Werror", "-fPIC"])
        .args(flags)
        .arg("-I")
        .arg(capi_dir().join("include"))
        .arg(capi_dir().join("tests/cxx/header_test.cpp"))
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lshmframe")
        .args(libs);
    run_succeeding(compile);
    exe
}

/// Runs `command` to its end with `RUN_LIMIT`, killing it if it hangs.
pub fn run_limited(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > RUN_LIMIT {
            child.kill().ok();
            let output = child.wait_with_output().unwrap();
            panic!(
                "{command:?} hung for {RUN_LIMIT:?}; stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// Runs `command` with `RUN_LIMIT` and checks that it succeeds; a failure
/// shows the command, its exit status and its output.
pub fn run_succeeding(command: Command) -> Output {
    let shown = format!("{command:?}");
    let output = run_limited(command);
    assert!(
        output.status.success(),
        "{shown} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `program` (with `args`) with its own segment directory and checks it succeeds.
pub fn run_ok(program: &Path, args: &[&str], segments: &Path) -> Output {
    let mut command = Command::new(program);
    command.args(args).env("SHMFRAME_DIR", segments);
    run_succeeding(command)
}

/// Compiles `name` as C and as C++ and runs both, each in a fresh segment directory.
pub fn run_c_and_cxx(name: &str) {
    for lang in [Lang::C, Lang::Cxx] {
        let program = compile(name, lang);
        let segments = tempfile::tempdir().unwrap();
        run_ok(&program, &[], segments.path());
        let left: Vec<_> = std::fs::read_dir(segments.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| !n.to_string_lossy().starts_with(".shmframe-wake."))
            .collect();
        assert!(
            left.is_empty(),
            "{name} ({lang:?}) left segments behind: {left:?}"
        );
    }
}
