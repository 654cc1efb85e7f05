//! Benchmarks of shmframe against the physical floor and the alternatives.
