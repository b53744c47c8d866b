//! A fused CPU forward pass of the BERT encoder, for `candle/bert-embed@1` on CPU.
//!
//! Same weights, same maths as candle-transformers' `BertModel` (which stays the engine on CUDA and the
//! cross-check in tests), arranged for a CPU (profile and measurements in BENCHMARKS.md):
//! - **no padding**: the tokens of every input of a batch are packed into one `[T, hidden]` matrix and
//!   attention runs per input over its own length, so no work is spent on pad tokens and no mask exists
//!   (sentence-transformers' masked positions get exactly zero attention weight, so results agree);
//! - **one GEMM per projection** through the `gemm` crate (AVX-512 kernels where present), with Q, K and V
//!   fused into one `[hidden, 3·hidden]` matrix and the bias folded into the GEMM's accumulator;
//! - attention reads Q, K, V in place through strides (no transposes, no copies), one (input, head)
//!   pair per task;
//! - bias + GELU, residual + LayerNorm, softmax are single fused passes over rows, compiled for AVX2/FMA
//!   when the CPU has it, with branch-free `erf` and `exp` that vectorise;
//! - buffers are allocated once per batch and reused by every layer.

use candle_transformers::models::bert::{Config, HiddenAct};
use gemm::Parallelism;
use rayon::prelude::*;

use crate::{Error, Result, weights::Weights};

/// One encoder layer's weights, matrices stored `[in, out]` row-major (transposed from PyTorch's layout).
struct Layer {
    qkv_w: Vec<f32>,
    qkv_b: Vec<f32>,
    attn_out_w: Vec<f32>,
    attn_out_b: Vec<f32>,
    ln1_g: Vec<f32>,
    ln1_b: Vec<f32>,
    inter_w: Vec<f32>,
    inter_b: Vec<f32>,
    out_w: Vec<f32>,
    out_b: Vec<f32>,
    ln2_g: Vec<f32>,
    ln2_b: Vec<f32>,
}

/// The encoder, ready to run on CPU.
pub(crate) struct FusedBert {
    hidden: usize,
    heads: usize,
    inter: usize,
    vocab: usize,
    eps: f32,
    act: HiddenAct,
    word: Vec<f32>,
    position: Vec<f32>,
    token_type0: Vec<f32>,
    emb_ln_g: Vec<f32>,
    emb_ln_b: Vec<f32>,
    layers: Vec<Layer>,
}

/// Takes the tensor `prefix` + `name` of shape `shape` out of `weights`.
fn take(weights: &mut Weights, prefix: &str, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
    weights.take_f32(&format!("{prefix}{name}"), shape)
}

/// Takes PyTorch's `[out, in]` linear weight and returns it as `[in, out]`; the original is freed here.
fn take_t(weights: &mut Weights, prefix: &str, name: &str, out: usize, inp: usize) -> Result<Vec<f32>> {
    let w = take(weights, prefix, name, &[out, inp])?;
    let mut t = Vec::with_capacity(w.len());
    for i in 0..inp {
        t.extend(w.iter().skip(i).step_by(inp));
    }
    Ok(t)
}

impl FusedBert {
    /// Takes its tensors out of the verified `weights` (F32 tensors move without a copy; the linear
    /// layers are transposed one at a time, each original freed at once), so loading costs the weights'
    /// size plus one matrix. `config` must have passed `bert::validate` (every dimension ≥ 1); each
    /// tensor's shape is checked against it, and a mismatch names the tensor and both shapes.
    pub(crate) fn load(weights: &mut Weights, config: &Config) -> Result<Self> {
        // Hugging Face checkpoints of BertForX prefix the encoder's names with `bert.`.
        let prefix = if weights.contains("bert.embeddings.word_embeddings.weight") { "bert." } else { "" };
        let (h, i) = (config.hidden_size, config.intermediate_size);
        let emb = format!("{prefix}embeddings.");
        let word = take(weights, &emb, "word_embeddings.weight", &[config.vocab_size, h])?;
        let position = take(weights, &emb, "position_embeddings.weight", &[config.max_position_embeddings, h])?;
        let mut token_type0 = take(weights, &emb, "token_type_embeddings.weight", &[config.type_vocab_size, h])?;
        // Every input is one segment (type 0); validate() guarantees that row exists, checked again here.
        if token_type0.len() < h {
            return Err(Error::Config(format!("weights: {emb}token_type_embeddings.weight has no row for type 0")));
        }
        token_type0.truncate(h);
        token_type0.shrink_to_fit();
        let emb_ln_g = take(weights, &emb, "LayerNorm.weight", &[h])?;
        let emb_ln_b = take(weights, &emb, "LayerNorm.bias", &[h])?;
        // Not `with_capacity(num_hidden_layers)`: the count comes from config.json and is only proven by
        // the tensors found.
        let mut layers = Vec::new();
        for index in 0..config.num_hidden_layers {
            let l = format!("{prefix}encoder.layer.{index}.");
            let (q, k, v) = (
                take_t(weights, &l, "attention.self.query.weight", h, h)?,
                take_t(weights, &l, "attention.self.key.weight", h, h)?,
                take_t(weights, &l, "attention.self.value.weight", h, h)?,
            );
            // [h, 3h]: row r = q[r] ‖ k[r] ‖ v[r].
            let mut qkv_w = Vec::with_capacity(3 * h * h);
            for r in 0..h {
                for m in [&q, &k, &v] {
                    qkv_w.extend_from_slice(&m[r * h..(r + 1) * h]);
                }
            }
            drop((q, k, v));
            let mut qkv_b = take(weights, &l, "attention.self.query.bias", &[h])?;
            qkv_b.extend(take(weights, &l, "attention.self.key.bias", &[h])?);
            qkv_b.extend(take(weights, &l, "attention.self.value.bias", &[h])?);
            layers.push(Layer {
                qkv_w,
                qkv_b,
                attn_out_w: take_t(weights, &l, "attention.output.dense.weight", h, h)?,
                attn_out_b: take(weights, &l, "attention.output.dense.bias", &[h])?,
                ln1_g: take(weights, &l, "attention.output.LayerNorm.weight", &[h])?,
                ln1_b: take(weights, &l, "attention.output.LayerNorm.bias", &[h])?,
                inter_w: take_t(weights, &l, "intermediate.dense.weight", i, h)?,
                inter_b: take(weights, &l, "intermediate.dense.bias", &[i])?,
                out_w: take_t(weights, &l, "output.dense.weight", h, i)?,
                out_b: take(weights, &l, "output.dense.bias", &[h])?,
                ln2_g: take(weights, &l, "output.LayerNorm.weight", &[h])?,
                ln2_b: take(weights, &l, "output.LayerNorm.bias", &[h])?,
            });
        }
        Ok(Self {
            hidden: h,
            heads: config.num_attention_heads,
            inter: i,
            vocab: config.vocab_size,
            eps: config.layer_norm_eps as f32,
            act: config.hidden_act,
            word,
            position,
            token_type0,
            emb_ln_g,
            emb_ln_b,
            layers,
        })
    }

    /// Mean-pooled, L2-normalised embeddings of `batch` (token ids with special tokens), row-major.
    pub(crate) fn embed_batch(&self, batch: &[&[u32]]) -> Result<Vec<f32>> {
        let h = self.hidden;
        let mut offsets = Vec::with_capacity(batch.len() + 1);
        offsets.push(0usize);
        for ids in batch {
            offsets.push(offsets.last().copied().unwrap_or(0) + ids.len());
        }
        let tokens = *offsets.last().expect("at least the 0 offset");
        if tokens == 0 {
            return Err(Error::Tokenizer("every input tokenized to nothing".into()));
        }
        if batch.iter().any(|ids| ids.len() * h > self.position.len()) {
            return Err(Error::Config("an input is longer than max_position_embeddings".into()));
        }

        // Embeddings: word + position + token type 0, then LayerNorm.
        let mut x = vec![0f32; tokens * h];
        for (seq, ids) in batch.iter().enumerate() {
            for (pos, &id) in ids.iter().enumerate() {
                let id = id as usize;
                if id >= self.vocab {
                    return Err(Error::Tokenizer(format!("token id {id} outside the vocabulary of {}", self.vocab)));
                }
                let row = &mut x[(offsets[seq] + pos) * h..][..h];
                let (w, p) = (&self.word[id * h..][..h], &self.position[pos * h..][..h]);
                for c in 0..h {
                    row[c] = w[c] + p[c] + self.token_type0[c];
                }
            }
        }
        x.par_chunks_mut(h).for_each(|row| kernels::layer_norm(row, None, &self.emb_ln_g, &self.emb_ln_b, self.eps));

        let mut qkv = vec![0f32; tokens * 3 * h];
        let mut ctx = vec![0f32; tokens * h];
        let mut tmp = vec![0f32; tokens * h];
        let mut inter = vec![0f32; tokens * self.inter];
        for layer in &self.layers {
            linear(&x, h, &layer.qkv_w, &layer.qkv_b, &mut qkv, tokens);
            self.attention(&qkv, &offsets, &mut ctx);
            linear(&ctx, h, &layer.attn_out_w, &layer.attn_out_b, &mut tmp, tokens);
            add_layer_norm(&mut x, &tmp, &layer.ln1_g, &layer.ln1_b, self.eps, h);
            linear(&x, h, &layer.inter_w, &layer.inter_b, &mut inter, tokens);
            let act = self.act;
            inter.par_chunks_mut(self.inter).for_each(|row| kernels::activation(row, act));
            linear(&inter, self.inter, &layer.out_w, &layer.out_b, &mut tmp, tokens);
            add_layer_norm(&mut x, &tmp, &layer.ln2_g, &layer.ln2_b, self.eps, h);
        }

        // Mean pooling over each input's tokens, then L2 normalisation (sentence-transformers' eps).
        let mut out = vec![0f32; batch.len() * h];
        out.par_chunks_mut(h).enumerate().for_each(|(seq, row)| {
            let (start, end) = (offsets[seq], offsets[seq + 1]);
            for t in start..end {
                for (o, v) in row.iter_mut().zip(&x[t * h..(t + 1) * h]) {
                    *o += v;
                }
            }
            let count = ((end - start) as f32).max(1e-9);
            row.iter_mut().for_each(|v| *v /= count);
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            row.iter_mut().for_each(|v| *v /= norm);
        });
        Ok(out)
    }

    /// Scaled dot-product attention of every (input, head) pair, reading Q, K, V in place from `qkv`.
    fn attention(&self, qkv: &[f32], offsets: &[usize], ctx: &mut [f32]) {
        let (h, heads) = (self.hidden, self.heads);
        let d = h / heads;
        let scale = 1.0 / (d as f32).sqrt();
        let tasks: Vec<(usize, usize)> =
            (0..offsets.len() - 1).flat_map(|seq| (0..heads).map(move |head| (seq, head))).collect();
        let ctx_ptr = SendPtr(ctx.as_mut_ptr());
        tasks.par_iter().for_each_init(Vec::new, |scores: &mut Vec<f32>, &(seq, head)| {
            let (start, len) = (offsets[seq], offsets[seq + 1] - offsets[seq]);
            scores.resize(len * len, 0.0);
            let q = qkv[start * 3 * h + head * d..].as_ptr();
            let k = qkv[start * 3 * h + h + head * d..].as_ptr();
            let v = qkv[start * 3 * h + 2 * h + head * d..].as_ptr();
            let row_stride = (3 * h) as isize;
            // SAFETY: every pointer/stride pair describes a matrix inside its buffer: Q, K, V are
            // [len, d] blocks of `qkv` rows start..start+len (row stride 3h); `scores` is len×len; the
            // destination is rows start..start+len, columns head·d..(head+1)·d of `ctx`, a block no
            // other task writes (tasks are distinct (input, head) pairs).
            unsafe {
                // scores = scale · Q Kᵀ
                gemm::gemm(
                    len,
                    len,
                    d,
                    scores.as_mut_ptr(),
                    1,
                    len as isize,
                    false,
                    q,
                    1,
                    row_stride,
                    k,
                    row_stride,
                    1,
                    0.0,
                    scale,
                    false,
                    false,
                    false,
                    Parallelism::None,
                );
                for row in scores.chunks_exact_mut(len) {
                    kernels::softmax(row);
                }
                // ctx[head] = softmax(scores) V
                gemm::gemm(
                    len,
                    d,
                    len,
                    ctx_ptr.get().add(start * h + head * d),
                    1,
                    h as isize,
                    false,
                    scores.as_ptr(),
                    1,
                    len as isize,
                    v,
                    1,
                    row_stride,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    Parallelism::None,
                );
            }
        });
    }
}

/// A raw pointer that may cross threads; each task writes a disjoint block (see `attention`).
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: only used for disjoint writes, documented at the use site.
unsafe impl Send for SendPtr {}
// SAFETY: as above.
unsafe impl Sync for SendPtr {}

impl SendPtr {
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// `y[rows, out] = x[rows, inp] · w[inp, out] + b`, the bias folded into the GEMM's accumulator.
fn linear(x: &[f32], inp: usize, w: &[f32], b: &[f32], y: &mut [f32], rows: usize) {
    let out = b.len();
    assert!(x.len() >= rows * inp && w.len() == inp * out && y.len() >= rows * out, "linear: shapes");
    for row in y[..rows * out].chunks_exact_mut(out) {
        row.copy_from_slice(b);
    }
    // Small products are faster on one thread than split.
    let parallelism =
        if rows * out * inp >= 1 << 18 { Parallelism::Rayon(rayon::current_num_threads()) } else { Parallelism::None };
    // SAFETY: the assert above bounds all three row-major matrices inside their slices.
    unsafe {
        gemm::gemm(
            rows,
            out,
            inp,
            y.as_mut_ptr(),
            1,
            out as isize,
            true,
            x.as_ptr(),
            1,
            inp as isize,
            w.as_ptr(),
            1,
            out as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `x = LayerNorm(x + delta)` row by row.
fn add_layer_norm(x: &mut [f32], delta: &[f32], g: &[f32], b: &[f32], eps: f32, h: usize) {
    x.par_chunks_mut(h).zip(delta.par_chunks(h)).for_each(|(row, d)| kernels::layer_norm(row, Some(d), g, b, eps));
}

/// Element-wise kernels: plain loops the compiler vectorises, compiled again for AVX2+FMA and picked at
/// run time when the CPU has them.
pub(crate) mod kernels {
    use candle_transformers::models::bert::HiddenAct;

    fn avx2() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// erf, branch-free rational approximation on [-4, 4] (|error| < 1e-6 against libm; tested).
    #[inline(always)]
    pub(crate) fn erf(x: f32) -> f32 {
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
    pub(crate) fn exp_neg(x: f32) -> f32 {
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

    /// The configured activation, in place.
    pub(crate) fn activation(row: &mut [f32], act: HiddenAct) {
        match act {
            HiddenAct::Gelu => {
                #[cfg(target_arch = "x86_64")]
                if avx2() {
                    // SAFETY: the CPU supports AVX2 and FMA (checked).
                    return unsafe { gelu_erf_avx2(row) };
                }
                gelu_erf_generic(row)
            }
            HiddenAct::GeluApproximate => gelu_tanh_generic(row),
            HiddenAct::Relu => row.iter_mut().for_each(|v| *v = v.max(0.0)),
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

    /// Max with 8 independent lanes (a single `fold(f32::max)` chain does not vectorise).
    #[inline(always)]
    fn max8(xs: &[f32]) -> f32 {
        let mut acc = [f32::NEG_INFINITY; 8];
        let chunks = xs.chunks_exact(8);
        let tail = chunks.remainder().iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for c in chunks {
            for i in 0..8 {
                acc[i] = if c[i] > acc[i] { c[i] } else { acc[i] };
            }
        }
        acc.iter().copied().fold(tail, f32::max)
    }

    #[inline(always)]
    fn softmax_generic(row: &mut [f32]) {
        let max = max8(row);
        for v in row.iter_mut() {
            *v = exp_neg(*v - max);
        }
        let inv = 1.0 / sum8(row);
        for v in row.iter_mut() {
            *v *= inv;
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn softmax_avx2(row: &mut [f32]) {
        softmax_generic(row)
    }

    /// Softmax of one row, in place.
    pub(crate) fn softmax(row: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if avx2() {
            // SAFETY: the CPU supports AVX2 and FMA (checked).
            return unsafe { softmax_avx2(row) };
        }
        softmax_generic(row)
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
    pub(crate) fn layer_norm(row: &mut [f32], delta: Option<&[f32]>, g: &[f32], b: &[f32], eps: f32) {
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
        fn softmax_and_layer_norm_match_the_definitions() {
            let mut row: Vec<f32> = (0..37).map(|i| (i as f32 * 0.37).sin() * 5.0).collect();
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let total: f32 = row.iter().map(|v| (v - max).exp()).sum();
            let expected: Vec<f32> = row.iter().map(|v| (v - max).exp() / total).collect();
            softmax(&mut row);
            for (a, b) in row.iter().zip(&expected) {
                assert!((a - b).abs() < 1e-6, "{a} vs {b}");
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
}
