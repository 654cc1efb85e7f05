fn main() {
    eprintln!("shmframe-viewer: not built yet");
    std::process::exit(2);
}
