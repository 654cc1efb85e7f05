//! The C++ header, compiled in several configurations and run: C++17 and
//! C++20, without exceptions, and with OpenCV's and Qt's headers included.

mod support;

use std::process::Command;
use support::{compile_header_test, library_dir, run_ok};

/// Compiles tests/cxx/header_test.cpp with `flags` and `libs` into `exe_name` and runs it.
fn build_and_run(exe_name: &str, flags: &[&str], libs: &[&str]) {
    let exe = compile_header_test(library_dir(), exe_name, flags, libs);
    let segments = tempfile::tempdir().unwrap();
    run_ok(&exe, &[], segments.path());
}

/// The compiler and linker flags of pkg-config `package`, if it is installed.
fn pkg_config(package: &str) -> Option<Vec<String>> {
    let output = Command::new("pkg-config")
        .args(["--cflags", "--libs", package])
        .output()
        .ok()?;
    output.status.success().then(|| {
        String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    })
}

#[test]
fn the_header_works_in_cxx17_and_cxx20() {
    build_and_run("hpp-cxx17", &["-std=c++17"], &[]);
    build_and_run("hpp-cxx20", &["-std=c++20"], &[]);
}

#[test]
fn the_status_overloads_work_without_exceptions() {
    build_and_run(
        "hpp-no-exceptions",
        &[
            "-std=c++17",
            "-fno-exceptions",
            "-DSHMFRAME_TEST_NO_EXCEPTIONS",
        ],
        &[],
    );
}

/// Debian's OpenCV core/imgproc packages ship no pkg-config file: headers and
/// libraries are found where they install them.
#[test]
fn a_frame_is_wrapped_as_a_cv_mat() {
    let include = std::path::Path::new("/usr/include/opencv4");
    assert!(
        include.join("opencv2/core.hpp").is_file(),
        "OpenCV headers missing: scripts/setup.sh installs libopencv-core-dev"
    );
    build_and_run(
        "hpp-opencv",
        &[
            "-std=c++17",
            "-DSHMFRAME_TEST_OPENCV",
            "-I/usr/include/opencv4",
        ],
        &["-lopencv_core"],
    );
}

#[test]
fn a_frame_is_wrapped_as_a_qimage() {
    let qt = pkg_config("Qt6Gui").expect("Qt6Gui missing: scripts/setup.sh installs qt6-base-dev");
    let (libs, cflags): (Vec<&str>, Vec<&str>) = qt
        .iter()
        .map(String::as_str)
        .partition(|f| f.starts_with("-l"));
    let mut flags = vec!["-std=c++17", "-DSHMFRAME_TEST_QT"];
    flags.extend(cflags);
    build_and_run("hpp-qt", &flags, &libs);
}
