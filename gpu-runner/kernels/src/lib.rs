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

/// The CPU features the kernels pick their variants by (one probe for every kernel, so they never disagree).
///
/// `CAIRN_NO_AVX512` set (to anything but `0`) before the kernels first run makes them take their AVX2
/// variants on an AVX-512 CPU: the same bits (tested), so a test or a benchmark can run the path CPUs without
/// AVX-512 take.
mod cpu {
    use std::sync::OnceLock;

    /// AVX2 and FMA (x86-64 only; read once).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) fn avx2() -> bool {
        static AVX2: OnceLock<bool> = OnceLock::new();
        *AVX2.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                false
            }
        })
    }

    /// AVX-512F, and AVX2 + FMA with it (every AVX-512 CPU has both), unless `CAIRN_NO_AVX512` turns it off
    /// (read once).
    pub(crate) fn avx512() -> bool {
        static AVX512: OnceLock<bool> = OnceLock::new();
        *AVX512.get_or_init(|| {
            let off = std::env::var_os("CAIRN_NO_AVX512").is_some_and(|v| v != "0");
            #[cfg(target_arch = "x86_64")]
            {
                !off && std::arch::is_x86_feature_detected!("avx512f") && avx2()
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                let _ = off;
                false
            }
        })
    }
}

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
