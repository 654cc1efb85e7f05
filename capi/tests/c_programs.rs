//! The C test programs of capi/tests/c, each compiled as C and as C++ and run.

mod support;

use support::run_c_and_cxx;

#[test]
fn status_and_helpers() {
    run_c_and_cxx("status_and_helpers");
}

#[test]
fn publish_and_read() {
    run_c_and_cxx("publish_and_read");
}

#[test]
fn waits() {
    run_c_and_cxx("waits");
}

#[test]
fn bad_arguments() {
    run_c_and_cxx("bad_arguments");
}

#[test]
fn holds() {
    run_c_and_cxx("holds");
}

#[test]
fn fork() {
    run_c_and_cxx("fork");
}

/// The programs under valgrind: no invalid access, no uninitialised value
/// used, no leak (definite, indirect or possible).
#[test]
fn valgrind_finds_no_error_and_no_leak() {
    if std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: valgrind is not installed (scripts/setup.sh installs it)");
        return;
    }
    let lib = support::valgrind_library_dir();
    let mut programs: Vec<_> = [
        "status_and_helpers",
        "publish_and_read",
        "waits",
        "bad_arguments",
        "readiness_fd",
        "holds",
    ]
    .into_iter()
    .map(|name| support::compile_against(name, support::Lang::C, lib))
    .collect();
    // The C++ header's RAII handles and frames too.
    programs.push(support::compile_header_test(
        lib,
        "hpp-valgrind",
        &["-std=c++17"],
        &[],
    ));
    for program in programs {
        let segments = tempfile::tempdir().unwrap();
        let mut command = std::process::Command::new("valgrind");
        command
            .args([
                "--error-exitcode=1",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite,indirect,possible",
                "--quiet",
            ])
            .arg(&program)
            .env("SHMFRAME_DIR", segments.path());
        support::run_succeeding(command);
    }
}

#[test]
fn readiness_fd() {
    run_c_and_cxx("readiness_fd");
}
