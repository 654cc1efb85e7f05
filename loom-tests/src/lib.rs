//! Loom models of the shmframe protocol live in tests/ (run with RUSTFLAGS="--cfg loom").
