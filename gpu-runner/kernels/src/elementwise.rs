//! Element-wise kernels of the fused encoder: plain loops the compiler vectorises, compiled again for AVX2 +
//! FMA (and, for the two that run over `len²` or `4 · hidden` values per token, AVX-512) and picked at run
//! time when the CPU has them; branch-free `erf` and `exp` that vectorise. Every variant does the same
//! operations in the same order per element (no `mul_add` contraction is added by a wider target), so a
//! value does not depend on the variant that computed it.

#[cfg(target_arch = "x86_64")]
use crate::cpu::{avx2, avx512};

/// erf, branch-free rational approximation on [-4, 4] (|error| < 1e-6 against libm; tested).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p + -2.101_024e-6;
    p = x2 * p + -5.692_506_4e-5;
    p = x2 * p + -7.349_906e-4;
    p = x2 * p + -2.954_600_1e-3;
    p = x2 * p + -1.609_603_3e-2;
    let mut q = x2 * -1.456_607_2e-5 + -2.133_740_6e-4;
    q = x2 * q + -1.682_827e-3;
    q = x2 * q + -7.373_329_4e-3;
    q = x2 * q + -1.426_474e-2;
    x * p / q
}

/// e^x for x ≤ 0 (softmax after subtracting the max): range reduction to 2^n · e^r and a degree-6
/// polynomial (relative error < 3e-7, about 2 ulp; tested).
#[inline(always)]
pub fn exp_neg(x: f32) -> f32 {
    let x = x.max(-87.0);
    // Round to nearest with the 1.5·2^23 trick: `f32::round` becomes a libm call per element.
    const MAGIC: f32 = 12_582_912.0;
    let t = x * std::f32::consts::LOG2_E + MAGIC;
    let n = t - MAGIC;
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let mut p = r * (1.0 / 720.0) + (1.0 / 120.0);
    p = r * p + (1.0 / 24.0);
    p = r * p + (1.0 / 6.0);
    p = r * p + 0.5;
    p = r * p + 1.0;
    p = r * p + 1.0;
    // 2^n from t's bits: t = 1.5·2^23 + n keeps n in its low mantissa bits, and shifting
    // (n + 127) into the exponent field needs no float→int conversion (`as i32` does not vectorise).
    let scale = f32::from_bits(t.to_bits().wrapping_add(127) << 23);
    p * scale
}

#[inline(always)]
fn gelu_erf_generic(row: &mut [f32]) {
    for v in row.iter_mut() {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

#[inline(always)]
fn gelu_tanh_generic(row: &mut [f32]) {
    for v in row.iter_mut() {
        let x = *v;
        *v = 0.5 * x * (1.0 + (0.797_884_6 * (x + 0.044_715 * x * x * x)).tanh());
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn gelu_erf_avx2(row: &mut [f32]) {
    gelu_erf_generic(row)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn gelu_erf_avx512(row: &mut [f32]) {
    gelu_erf_generic(row)
}

/// An encoder's activation (BERT's `hidden_act`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// GELU with the exact erf (`gelu`).
    Gelu,
    /// GELU's tanh approximation (`gelu_new`, `gelu_pytorch_tanh`).
    GeluTanh,
    /// max(0, x).
    Relu,
}

/// `act` applied to every value of `row`, in place.
pub fn activation(row: &mut [f32], act: Activation) {
    match act {
        Activation::Gelu => {
            #[cfg(target_arch = "x86_64")]
            if avx512() {
                // SAFETY: the CPU supports AVX-512F, AVX2 and FMA (checked).
                return unsafe { gelu_erf_avx512(row) };
            }
            #[cfg(target_arch = "x86_64")]
            if avx2() {
                // SAFETY: the CPU supports AVX2 and FMA (checked).
                return unsafe { gelu_erf_avx2(row) };
            }
            gelu_erf_generic(row)
        }
        Activation::GeluTanh => gelu_tanh_generic(row),
        Activation::Relu => row.iter_mut().for_each(|v| *v = v.max(0.0)),
    }
}

/// Sum with 8 independent accumulators, so the loop vectorises without reassociating a single chain.
#[inline(always)]
fn sum8(xs: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = xs.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn softmax_columns_generic(m: &mut [f32], (rows, cols, stride): (usize, usize, usize), scale: f32, acc: &mut Vec<f32>) {
    acc.clear();
    acc.resize(2 * cols, 0.0);
    let (max, sum) = acc.split_at_mut(cols);
    max.fill(f32::NEG_INFINITY);
    for r in 0..rows {
        for (mx, v) in max.iter_mut().zip(&m[r * stride..][..cols]) {
            *mx = if *v > *mx { *v } else { *mx };
        }
    }
    for r in 0..rows {
        for ((v, mx), s) in m[r * stride..][..cols].iter_mut().zip(&*max).zip(sum.iter_mut()) {
            *v = exp_neg((*v - mx) * scale);
            *s += *v;
        }
    }
    for s in sum.iter_mut() {
        *s = 1.0 / *s;
    }
    for r in 0..rows {
        for (v, inv) in m[r * stride..][..cols].iter_mut().zip(&*sum) {
            *v *= inv;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn softmax_columns_avx2(m: &mut [f32], shape: (usize, usize, usize), scale: f32, acc: &mut Vec<f32>) {
    softmax_columns_generic(m, shape, scale, acc)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn softmax_columns_avx512(m: &mut [f32], shape: (usize, usize, usize), scale: f32, acc: &mut Vec<f32>) {
    softmax_columns_generic(m, shape, scale, acc)
}

/// Softmax of each of the first `cols` columns over the first `rows` rows of `m` (row-major, rows `stride`
/// apart): column `c` becomes `softmax(scale · m[.., c])`, in place; `scale` > 0, applied after the column's
/// maximum is subtracted. Attention's softmax run on `Sᵀ` (one column per query), so each pass is a
/// vector operation along a row. `acc` is scratch (`2 · cols` values, kept by the caller).
///
/// Panics when `m` holds fewer than `(rows − 1) · stride + cols` values.
pub fn softmax_columns(m: &mut [f32], (rows, cols, stride): (usize, usize, usize), scale: f32, acc: &mut Vec<f32>) {
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(stride >= cols && m.len() >= (rows - 1) * stride + cols, "softmax_columns: shape");
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        // SAFETY: the CPU supports AVX-512F, AVX2 and FMA (checked).
        return unsafe { softmax_columns_avx512(m, (rows, cols, stride), scale, acc) };
    }
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked).
        return unsafe { softmax_columns_avx2(m, (rows, cols, stride), scale, acc) };
    }
    softmax_columns_generic(m, (rows, cols, stride), scale, acc)
}

#[inline(always)]
fn layer_norm_generic(row: &mut [f32], delta: Option<&[f32]>, g: &[f32], b: &[f32], eps: f32) {
    if let Some(d) = delta {
        for (v, d) in row.iter_mut().zip(d) {
            *v += d;
        }
    }
    let n = row.len() as f32;
    let mean = sum8(row) / n;
    let mut sq = [0f32; 8];
    let chunks = row.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().map(|v| (v - mean) * (v - mean)).sum();
    for c in chunks {
        for i in 0..8 {
            sq[i] += (c[i] - mean) * (c[i] - mean);
        }
    }
    let var = (sq.iter().sum::<f32>() + tail) / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in row.iter_mut().zip(g).zip(b) {
        *v = (*v - mean) * inv * g + b;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn layer_norm_avx2(row: &mut [f32], delta: Option<&[f32]>, g: &[f32], b: &[f32], eps: f32) {
    layer_norm_generic(row, delta, g, b, eps)
}

/// `row = LayerNorm(row + delta)` (delta optional), in place.
pub fn layer_norm(row: &mut [f32], delta: Option<&[f32]>, g: &[f32], b: &[f32], eps: f32) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked).
        return unsafe { layer_norm_avx2(row, delta, g, b, eps) };
    }
    layer_norm_generic(row, delta, g, b, eps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn libm_erf(x: f64) -> f64 {
        // Abramowitz–Stegun 7.1.26 is too coarse for a reference; integrate numerically instead.
        let steps = 20_000;
        let h = x / steps as f64;
        let f = |t: f64| (-t * t).exp();
        let mut s = f(0.0) + f(x);
        for i in 1..steps {
            s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        s * h / 3.0 * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_is_accurate() {
        let mut worst = 0f64;
        for i in -600..=600 {
            let x = i as f64 / 100.0;
            worst = worst.max((erf(x as f32) as f64 - libm_erf(x)).abs());
        }
        assert!(worst < 1e-6, "max |erf error| {worst}");
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_avx512_variants_give_the_same_bits_as_avx2() {
        if !avx512() {
            eprintln!("skipped: this CPU has no AVX-512");
            return;
        }
        let values: Vec<f32> = (0..1001).map(|i| (i as f32 * 0.731).sin() * 7.0).collect();
        let (mut a, mut b) = (values.clone(), values.clone());
        // SAFETY: the CPU supports AVX-512F, AVX2 and FMA (checked above).
        unsafe { (gelu_erf_avx2(&mut a), gelu_erf_avx512(&mut b)) };
        assert_eq!(a, b, "GELU");
        let (mut a, mut b) = (values.clone(), values);
        let shape = (37, 25, 27);
        // SAFETY: as above.
        unsafe {
            softmax_columns_avx2(&mut a, shape, 0.3, &mut Vec::new());
            softmax_columns_avx512(&mut b, shape, 0.3, &mut Vec::new());
        }
        assert_eq!(a, b, "softmax down the columns");
    }

    #[test]
    fn exp_is_accurate() {
        let mut worst = 0f64;
        for i in 0..=8700 {
            let x = -(i as f32) / 100.0;
            let exact = (x as f64).exp();
            worst = worst.max(((exp_neg(x) as f64) - exact).abs() / exact);
        }
        assert!(worst < 3e-7, "max relative exp error {worst}");
        assert_eq!(exp_neg(0.0), 1.0);
        assert!(exp_neg(-1000.0) < 1e-37);
    }

    #[test]
    fn softmax_columns_and_layer_norm_match_the_definitions() {
        // Softmax down each column of a 37 × 5 block (stride 7) against the definition per column; the
        // columns past 5 stay as they were.
        let scale = 0.3f32;
        let (rows, cols, stride) = (37, 5, 7);
        let mut m: Vec<f32> =
            (0..rows * stride).map(|i| ((i / stride) as f32 * 0.37 + (i % stride) as f32).sin() * 5.0).collect();
        let before = m.clone();
        softmax_columns(&mut m, (rows, cols, stride), scale, &mut Vec::new());
        for c in 0..stride {
            let column: Vec<f32> = (0..rows).map(|r| before[r * stride + c]).collect();
            let max = column.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let total: f32 = column.iter().map(|v| (scale * (v - max)).exp()).sum();
            for r in 0..rows {
                let want = if c < cols { (scale * (column[r] - max)).exp() / total } else { column[r] };
                let got = m[r * stride + c];
                assert!((got - want).abs() < 1e-6, "column {c}, row {r}: {got} vs {want}");
            }
        }
        let mut row: Vec<f32> = (0..19).map(|i| i as f32 * 0.5 - 3.0).collect();
        let delta = vec![1.0f32; 19];
        let (g, b) = (vec![2.0f32; 19], vec![0.5f32; 19]);
        layer_norm(&mut row, Some(&delta), &g, &b, 1e-12);
        let mean: f32 = row.iter().sum::<f32>() / 19.0;
        let var: f32 = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 19.0;
        assert!((mean - 0.5).abs() < 1e-5 && (var - 4.0).abs() < 1e-4, "{mean} {var}");
    }
}
