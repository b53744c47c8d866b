//! `cairn-kernels`: the CPU compute kernels of `cairn-runner`'s fused BERT engine.
//!
//! - [`packed`]: linear layers with their weights packed once into column panels, and the AVX-512 (or AVX2)
//!   micro-kernel that multiplies by them.
//! - [`elementwise`]: LayerNorm, attention's softmax (down columns), GELU with vectorising `erf` and `exp`.
//!
//! A crate of its own so that development builds compile it optimised (`[profile.dev.package]` in the
//! workspace manifest) while `cairn-runner` stays at opt-level 0: tests, the devnet and the scenarios run
//! the real model, and a matrix product at opt-level 0 is some fifty times slower.

pub mod elementwise;
pub mod packed;

/// Inputs for the kernels' tests and those of their callers (`cairn-runner`'s attention).
#[doc(hidden)]
pub mod testing {
    /// `n` deterministic values in [−0.5, 0.5) (a multiplicative hash of the index and `seed`).
    pub fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32 / 16_777_216.0) - 0.5)
            .collect()
    }
}
