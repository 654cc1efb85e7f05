// The shared library carries a soname, so programs linked against
// libshmframe.so keep working across compatible rebuilds (libshmframe.so.0).
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libshmframe.so.0");
}
