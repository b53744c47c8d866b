//! A fused CPU forward pass of the BERT encoder, for `candle/bert-embed@1` on CPU.
//!
//! Same weights, same maths as candle-transformers' `BertModel` (which stays the engine on CUDA and the
//! cross-check in tests), arranged for a CPU (profile and measurements in BENCHMARKS.md):
//! - **no padding**: the tokens of every input of a batch are packed into one `[T, hidden]` matrix and
//!   attention runs per input over its own length, so no work is spent on pad tokens and no mask exists
//!   (sentence-transformers' masked positions get exactly zero attention weight, so results agree);
//! - **weights packed once**: each linear layer's weights are packed at load into column panels
//!   (`cairn_kernels::packed`), Q, K and V as one `[hidden, 3·hidden]` layer, and multiplied by an
//!   AVX-512 micro-kernel with the bias in the accumulator and GELU applied on the tile;
//! - attention runs one (input, head) pair at a time on the same micro-kernel, the scores transposed
//!   (`Sᵀ = K·Qᵀ`, softmax down its columns) so that `P·V` reads them in place: only Q (into panels) and
//!   K (packed by the product) are transposed, `len × d` values each, never the `len²` scores (`attention`);
//! - residual + LayerNorm, softmax and GELU are single vector passes (`cairn_kernels::elementwise`),
//!   compiled for AVX2/FMA (GELU and the column softmax also for AVX-512) when the CPU has it, with
//!   branch-free `erf` and `exp` that vectorise;
//! - **a team of threads in lock-step** runs all the batches of a call (`Team`): each member does its
//!   share of every step and spins at a barrier between steps, instead of a fork-join per step;
//! - buffers are allocated once per call, for its largest batch, and reused by every layer and batch.

use cairn_kernels::{
    elementwise::{self as kernels, Activation},
    packed::{self, NR, PackedLinear, SendPtr, share},
};
use candle_transformers::models::bert::{Config, HiddenAct};

use crate::{Error, Result, weights::Weights};

/// One encoder layer's weights, the linear layers packed in panels (`packed.rs`).
struct Layer {
    qkv: PackedLinear,
    attn_out: PackedLinear,
    ln1_g: Vec<f32>,
    ln1_b: Vec<f32>,
    inter: PackedLinear,
    out: PackedLinear,
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
    act: Activation,
    word: Vec<f32>,
    position: Vec<f32>,
    token_type0: Vec<f32>,
    emb_ln_g: Vec<f32>,
    emb_ln_b: Vec<f32>,
    layers: Vec<Layer>,
    /// Held for a whole call: the team runs one call at a time.
    pass: std::sync::Mutex<()>,
    /// The threads that run every call (rayon's thread count when the model was loaded).
    team: Team,
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
            let qkv = PackedLinear::pack(qkv_w, qkv_b, h, 3 * h);
            let attn_out = PackedLinear::pack(
                take_t(weights, &l, "attention.output.dense.weight", h, h)?,
                take(weights, &l, "attention.output.dense.bias", &[h])?,
                h,
                h,
            );
            let (ln1_g, ln1_b) = (
                take(weights, &l, "attention.output.LayerNorm.weight", &[h])?,
                take(weights, &l, "attention.output.LayerNorm.bias", &[h])?,
            );
            let inter = PackedLinear::pack(
                take_t(weights, &l, "intermediate.dense.weight", i, h)?,
                take(weights, &l, "intermediate.dense.bias", &[i])?,
                h,
                i,
            );
            let out = PackedLinear::pack(
                take_t(weights, &l, "output.dense.weight", h, i)?,
                take(weights, &l, "output.dense.bias", &[h])?,
                i,
                h,
            );
            layers.push(Layer {
                qkv,
                attn_out,
                ln1_g,
                ln1_b,
                inter,
                out,
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
            act: match config.hidden_act {
                HiddenAct::Gelu => Activation::Gelu,
                HiddenAct::GeluApproximate => Activation::GeluTanh,
                HiddenAct::Relu => Activation::Relu,
            },
            word,
            position,
            token_type0,
            emb_ln_g,
            emb_ln_b,
            layers,
            pass: std::sync::Mutex::new(()),
            team: Team::new(rayon::current_num_threads())?,
        })
    }

    /// Mean-pooled, L2-normalised embeddings of every input of `batches` (token ids with special tokens),
    /// row-major, batch after batch: `Σ batch.len() × hidden` values.
    ///
    /// Each batch is one forward pass, and all of them run in one team of threads in lock-step (`Team`):
    /// every member runs the same steps, does its share of each (panels or rows of a linear layer,
    /// (input, head) pairs of attention, rows of a LayerNorm) and waits for the others at a spinning
    /// barrier. The working buffers are sized once for the largest batch and reused. One team runs at a
    /// time per model; concurrent callers queue on `pass`.
    ///
    /// Errors: an empty batch, an input longer than `max_position_embeddings`, a token id outside the
    /// vocabulary — all checked before any thread starts.
    pub(crate) fn embed_batches(&self, batches: &[Vec<&[u32]>]) -> Result<Vec<f32>> {
        let h = self.hidden;
        let mut plans = Vec::with_capacity(batches.len());
        let mut first = 0;
        for batch in batches {
            plans.push(self.plan(batch, first)?);
            first += batch.len();
        }
        let tokens = plans.iter().map(|plan| plan.packed.len()).max().unwrap_or(0);
        let mut buffers = Buffers {
            x: vec![0f32; tokens * h],
            qkv: vec![0f32; tokens * 3 * h],
            ctx: vec![0f32; tokens * h],
            tmp: vec![0f32; tokens * h],
            inter: vec![0f32; tokens * self.inter],
            out: vec![0f32; first * h],
        };
        let views = Views::of(&mut buffers);
        let _pass = self.pass.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.team.run(|member| {
            for plan in &plans {
                self.pass(member, &views, plan);
                // The next pass writes x, which this one's pooling reads.
                member.wait();
            }
        });
        Ok(buffers.out)
    }

    /// Checks one batch and lays out its tokens; `first` is the index of its first input among all.
    fn plan(&self, batch: &[&[u32]], first: usize) -> Result<Plan> {
        let h = self.hidden;
        let mut offsets = Vec::with_capacity(batch.len() + 1);
        offsets.push(0usize);
        for ids in batch {
            offsets.push(offsets.last().copied().unwrap_or(0) + ids.len());
        }
        if offsets.last() == Some(&0) {
            return Err(Error::Tokenizer("every input tokenized to nothing".into()));
        }
        if batch.iter().any(|ids| ids.len() * h > self.position.len()) {
            return Err(Error::Config("an input is longer than max_position_embeddings".into()));
        }
        let mut packed = Vec::with_capacity(*offsets.last().unwrap_or(&0));
        for ids in batch {
            for (pos, &id) in ids.iter().enumerate() {
                if id as usize >= self.vocab {
                    return Err(Error::Tokenizer(format!("token id {id} outside the vocabulary of {}", self.vocab)));
                }
                packed.push((id as usize, pos));
            }
        }
        Ok(Plan { packed, offsets, first })
    }

    /// One member's part of one batch's pass (see `embed_batches`); every member calls this with the same
    /// arguments.
    ///
    /// Between two barriers each member writes only its own share of one buffer (rows, panels, or
    /// (input, head) blocks, given by its index) and reads only buffers no member writes in that step; the
    /// barriers order every write before the next step's reads. Every `unsafe` view below relies on this.
    fn pass(&self, member: &Member<'_>, b: &Views, plan: &Plan) {
        let (packed, offsets) = (&plan.packed, &plan.offsets);
        let (h, tokens) = (self.hidden, packed.len());
        let (t, n) = (member.index, member.count);

        // Embeddings: word + position + token type 0, then LayerNorm; rows split between members.
        let rows = share(tokens, t, n);
        // SAFETY: this member's rows of x (see above).
        let x = unsafe { b.x.part(rows.start * h, rows.len() * h) };
        for (row, &(id, pos)) in x.chunks_exact_mut(h).zip(&packed[rows]) {
            let (w, p) = (&self.word[id * h..][..h], &self.position[pos * h..][..h]);
            for c in 0..h {
                row[c] = w[c] + p[c] + self.token_type0[c];
            }
            kernels::layer_norm(row, None, &self.emb_ln_g, &self.emb_ln_b, self.eps);
        }
        member.wait();
        // x = LayerNorm(x + tmp) over this member's rows.
        let add_norm = |g: &[f32], beta: &[f32]| {
            let rows = share(tokens, t, n);
            // SAFETY: this member's rows of x; tmp is read-only in this step.
            let (x, tmp) = unsafe { (b.x.part(rows.start * h, rows.len() * h), b.tmp.all()) };
            for (row, r) in x.chunks_exact_mut(h).zip(rows) {
                kernels::layer_norm(row, Some(&tmp[r * h..][..h]), g, beta, self.eps);
            }
        };
        for layer in &self.layers {
            // SAFETY (each step): the input buffer is read-only in the step, the output written by share.
            unsafe {
                layer.qkv.forward_part(b.x.all(), tokens, b.qkv.ptr(), None, t, n);
                member.wait();
                attention(b.qkv.all(), offsets, (h, self.heads), b.ctx.ptr(), t, n);
                member.wait();
                layer.attn_out.forward_part(b.ctx.all(), tokens, b.tmp.ptr(), None, t, n);
                member.wait();
                add_norm(&layer.ln1_g, &layer.ln1_b);
                member.wait();
                layer.inter.forward_part(b.x.all(), tokens, b.inter.ptr(), Some(self.act), t, n);
                member.wait();
                layer.out.forward_part(b.inter.all(), tokens, b.tmp.ptr(), None, t, n);
                member.wait();
                add_norm(&layer.ln2_g, &layer.ln2_b);
                member.wait();
            }
        }

        // Mean pooling over each input's tokens, then L2 normalisation (sentence-transformers' eps).
        let seqs = share(offsets.len() - 1, t, n);
        // SAFETY: this member's rows of out; x is read-only now.
        let (out, x) = unsafe { (b.out.part((plan.first + seqs.start) * h, seqs.len() * h), b.x.all()) };
        for (row, seq) in out.chunks_exact_mut(h).zip(seqs) {
            let (start, end) = (offsets[seq], offsets[seq + 1]);
            for r in start..end {
                for (o, v) in row.iter_mut().zip(&x[r * h..(r + 1) * h]) {
                    *o += v;
                }
            }
            let count = ((end - start) as f32).max(1e-9);
            row.iter_mut().for_each(|v| *v /= count);
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
}

/// Scaled dot-product attention (Vaswani et al. 2017, as BERT runs it, without a mask: inputs are packed
/// without padding) of member `t`'s (input, head) pairs, every `n`-th of them: `qkv` holds each token's
/// `q ‖ k ‖ v` (`3 · hidden` values), input `s` is tokens `offsets[s]..offsets[s + 1]`, and each pair's
/// `[len, hidden / heads]` block of `ctx` (`tokens × hidden`) gets `softmax(Q Kᵀ / √d) V`.
///
/// Both products run on the packed-panel micro-kernel (`cairn_kernels::packed::product`), arranged so
/// that nothing of size `len²` is ever transposed: the scores are computed transposed, `Sᵀ = K Qᵀ` (K
/// packed by the product, Qᵀ laid out in panels of `NR` queries), the softmax runs down its columns (one
/// per query, a vector operation along each row), and `Sᵀ` is then exactly the k-major operand `P·V`
/// reads in place (V read in place too when the head size is a multiple of `NR`). A general GEMM
/// (the `gemm` crate, before) packed both operands again behind every call and ran its set-up per pair.
///
/// # Safety
/// `ctx` points at `tokens × hidden` values whose (input, head) blocks of this member no other thread
/// accesses during the call; `qkv` holds `tokens × 3 · hidden` values.
unsafe fn attention(qkv: &[f32], offsets: &[usize], (hidden, heads): (usize, usize), ctx: SendPtr, t: usize, n: usize) {
    let h = hidden;
    let d = h / heads;
    // Panels of the head's dimensions (V, the output); per input, lw = its positions rounded up to panels.
    let dp = d.div_ceil(NR);
    let scale = 1.0 / (d as f32).sqrt();
    let (mut qt, mut vp, mut st, mut out) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut scratch, mut acc) = (Vec::new(), Vec::new());
    let pairs = (0..offsets.len() - 1).flat_map(|seq| (0..heads).map(move |head| (seq, head)));
    for (seq, head) in pairs.skip(t).step_by(n) {
        let (start, len) = (offsets[seq], offsets[seq + 1] - offsets[seq]);
        if len == 0 {
            // Nothing to attend (the tokenizer adds [CLS] and [SEP], so this is not reached from text).
            continue;
        }
        let lw = len.div_ceil(NR) * NR;
        let [q, k, v] = [0, 1, 2].map(|part| &qkv[start * 3 * h + part * h + head * d..]);
        // Qᵀ: panel p holds queries NR·p.. as columns, one row per head dimension. The columns past `len`
        // of the last panel keep what an earlier pair left: they only make columns of Sᵀ nobody reads.
        qt.resize(lw * d, 0.0);
        for (p, panel) in qt.chunks_exact_mut(d * NR).enumerate() {
            let queries = (len - p * NR).min(NR);
            packed::transpose(&q[p * NR * 3 * h..], 3 * h, queries, d, panel, NR);
        }
        // V as panels of NR head dimensions: read in place when the head size is a multiple of NR (rows
        // 3h apart), else copied into zero-padded panels.
        let (v, ldv, v_stride) = if d.is_multiple_of(NR) {
            (v, 3 * h, NR)
        } else {
            vp.clear();
            vp.resize(dp * len * NR, 0.0);
            for j in 0..len {
                for (p, cols) in v[j * 3 * h..][..d].chunks(NR).enumerate() {
                    vp[p * len * NR + j * NR..][..cols.len()].copy_from_slice(cols);
                }
            }
            (&vp[..], NR, len * NR)
        };
        // Sᵀ = K Qᵀ (len keys × lw queries; the columns past len are not read), then each query's column
        // softmax(scale · …) over the keys: Pᵀ.
        st.resize(len * lw, 0.0);
        let keys = packed::Lhs::Rows { a: k, lda: 3 * h };
        packed::product(keys, len, d, &qt, NR, d * NR, lw / NR, &mut st, lw, &mut scratch);
        kernels::softmax_columns(&mut st, (len, len, lw), scale, &mut acc);
        // out = P V (len × dp·NR), P read from Pᵀ in place, then its first d columns into ctx.
        out.resize(len * dp * NR, 0.0);
        let p = packed::Lhs::KMajor { a: &st, stride: lw };
        packed::product(p, len, len, v, ldv, v_stride, dp, &mut out, dp * NR, &mut scratch);
        for (r, row) in out.chunks_exact(dp * NR).enumerate() {
            // SAFETY: row start + r, columns head·d..(head + 1)·d of ctx: this member's (the contract).
            unsafe { std::ptr::copy_nonoverlapping(row.as_ptr(), ctx.get().add((start + r) * h + head * d), d) };
        }
    }
}

/// One batch laid out for a pass: (token id, position) of every packed token, each input's first token
/// (`offsets`, one more than the inputs), and the index of its first input among all batches.
struct Plan {
    packed: Vec<(usize, usize)>,
    offsets: Vec<usize>,
    first: usize,
}

/// A pass's working buffers: packed tokens × hidden (`x`, `ctx`, `tmp`), × 3·hidden (`qkv`), ×
/// intermediate (`inter`), and the pooled rows (`out`, inputs × hidden).
struct Buffers {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    tmp: Vec<f32>,
    inter: Vec<f32>,
    out: Vec<f32>,
}

/// Raw views of [`Buffers`] that every member of a team holds; each member makes slices of its own
/// share only (see `FusedBert::pass`), so no two threads hold overlapping `&mut`.
struct Views {
    x: View,
    qkv: View,
    ctx: View,
    tmp: View,
    inter: View,
    out: View,
}

impl Views {
    fn of(b: &mut Buffers) -> Self {
        Self {
            x: View::of(&mut b.x),
            qkv: View::of(&mut b.qkv),
            ctx: View::of(&mut b.ctx),
            tmp: View::of(&mut b.tmp),
            inter: View::of(&mut b.inter),
            out: View::of(&mut b.out),
        }
    }
}

/// One buffer's pointer and length.
#[derive(Clone, Copy)]
struct View {
    ptr: SendPtr,
    len: usize,
}

impl View {
    fn of(buffer: &mut [f32]) -> Self {
        Self { ptr: SendPtr(buffer.as_mut_ptr()), len: buffer.len() }
    }

    /// The whole buffer, read-only.
    ///
    /// # Safety
    /// No thread writes the buffer while the slice lives.
    unsafe fn all<'a>(self) -> &'a [f32] {
        // SAFETY: ptr/len come from a live Vec that outlives the pass; no writer, per the contract.
        unsafe { std::slice::from_raw_parts(self.ptr.get(), self.len) }
    }

    /// `len` values from `start`, writable. Panics when outside the buffer.
    ///
    /// # Safety
    /// No other thread accesses these values while the slice lives.
    #[allow(clippy::mut_from_ref)]
    unsafe fn part<'a>(self, start: usize, len: usize) -> &'a mut [f32] {
        assert!(start + len <= self.len, "View::part: {start} + {len} > {}", self.len);
        // SAFETY: inside the buffer (checked); exclusive per the contract.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.get().add(start), len) }
    }

    /// The raw pointer, for kernels that write a member's share (their own safety contracts).
    fn ptr(self) -> SendPtr {
        self.ptr
    }
}

/// One member of a [`Team`]: its index, the team's size, and the barrier they share.
struct Member<'a> {
    index: usize,
    count: usize,
    barrier: &'a spin::Barrier,
}

impl Member<'_> {
    /// Waits, spinning, until every member reached this point.
    fn wait(&self) {
        if self.count > 1 {
            self.barrier.wait();
        }
    }
}

/// Threads running one function in lock-step (SPMD, as OpenMP's parallel regions): the caller of
/// [`Team::run`] is member 0, and members `1..size` are threads the team keeps for the model's lifetime.
///
/// Why not rayon's fork-join per step: a pass has ~50 steps, and rayon parks an idle worker on a futex
/// after a short spin, so each step began with a wake-up. On a virtual machine a parked vCPU halts and the
/// hypervisor must schedule it again: on this 2-core VM that was measured as steal time larger than the
/// work itself (BENCHMARKS.md), while ONNX Runtime, whose pool spins, saw almost none. Members here spin
/// at the barrier (`spin::Barrier`, `spin_loop` hints) for the whole call, and for [`SPIN`] after it for
/// the next one (back-to-back single requests find them awake), then sleep on a condition variable.
///
/// A member that panics aborts the process after the panic's message is printed: the others would wait
/// at a barrier for ever, holding the model (the pass has no panicking path but a bug; a runner restarts
/// from its journal).
pub(crate) struct Team {
    crew: std::sync::Arc<Crew>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

/// How long an idle member spins for the next call before it sleeps.
const SPIN: std::time::Duration = std::time::Duration::from_millis(1);

/// What a team's members share.
struct Crew {
    size: usize,
    barrier: spin::Barrier,
    /// Bumped (under `sleep`) to start a call or to shut down.
    generation: std::sync::atomic::AtomicU64,
    job: std::sync::Mutex<Job>,
    /// Members `1..size` done with the current call.
    finished: std::sync::atomic::AtomicUsize,
    shutdown: std::sync::atomic::AtomicBool,
    sleep: std::sync::Mutex<()>,
    wake: std::sync::Condvar,
}

/// The current call's function, its lifetime erased: `Team::run` does not return before every member is
/// done with it.
#[derive(Clone, Copy)]
struct Job(Option<*const (dyn Fn(&Member<'_>) + Sync + 'static)>);
// SAFETY: the function is `Sync` and outlives every use (see `Team::run`).
unsafe impl Send for Job {}

impl Team {
    /// A team of `size` members (at least 1): `size − 1` threads are started here.
    ///
    /// Errors: the OS refused a thread.
    pub(crate) fn new(size: usize) -> Result<Self> {
        use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
        let size = size.max(1);
        let crew = std::sync::Arc::new(Crew {
            size,
            barrier: spin::Barrier::new(size),
            generation: AtomicU64::new(0),
            job: std::sync::Mutex::new(Job(None)),
            finished: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            sleep: std::sync::Mutex::new(()),
            wake: std::sync::Condvar::new(),
        });
        // The team exists before its threads, so a refused spawn drops it and stops those already started.
        let mut team = Self { crew, workers: Vec::with_capacity(size - 1) };
        for index in 1..size {
            let crew = team.crew.clone();
            let worker = std::thread::Builder::new()
                .name(format!("cairn-engine-{index}"))
                .spawn(move || crew.serve(index))
                .map_err(|e| Error::Device(format!("cannot start the engine's thread {index}: {e}")))?;
            team.workers.push(worker);
        }
        Ok(team)
    }

    /// Runs `f` on every member (the caller is member 0) and returns when all are done.
    ///
    /// Aborts the process when a member panics in `f`. Callers must not overlap (the model's `pass` mutex).
    fn run(&self, f: impl Fn(&Member<'_>) + Sync) {
        use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
        let crew = &*self.crew;
        if crew.size == 1 {
            return f(&Member { index: 0, count: 1, barrier: &crew.barrier });
        }
        let f: &(dyn Fn(&Member<'_>) + Sync) = &f;
        // SAFETY: only the lifetime is erased; `Done` below waits, also on unwinding, until every member
        // finished with `f`, so no member uses it after this call returns.
        let erased: *const (dyn Fn(&Member<'_>) + Sync + 'static) = unsafe { std::mem::transmute(f) };
        *crew.job.lock().unwrap_or_else(|p| p.into_inner()) = Job(Some(erased));
        crew.finished.store(0, Relaxed);
        {
            let _asleep = crew.sleep.lock().unwrap_or_else(|p| p.into_inner());
            crew.generation.fetch_add(1, Release);
        }
        crew.wake.notify_all();
        struct Done<'a>(&'a Crew);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                while self.0.finished.load(Acquire) < self.0.size - 1 {
                    std::hint::spin_loop();
                }
            }
        }
        let done = Done(crew);
        let member = Member { index: 0, count: crew.size, barrier: &crew.barrier };
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&member))).is_err() {
            abort_team();
        }
        drop(done);
    }
}

impl Crew {
    /// Member `index`'s loop: wait for a call (spinning for [`SPIN`], then asleep), run it, report.
    fn serve(&self, index: usize) {
        use std::sync::atomic::Ordering::{Acquire, Release};
        let mut seen = 0;
        loop {
            let idle = std::time::Instant::now();
            loop {
                if self.generation.load(Acquire) != seen {
                    break;
                }
                if idle.elapsed() > SPIN {
                    let mut asleep = self.sleep.lock().unwrap_or_else(|p| p.into_inner());
                    while self.generation.load(Acquire) == seen {
                        asleep = self.wake.wait(asleep).unwrap_or_else(|p| p.into_inner());
                    }
                    break;
                }
                std::hint::spin_loop();
            }
            seen = self.generation.load(Acquire);
            if self.shutdown.load(Acquire) {
                return;
            }
            let Job(Some(job)) = *self.job.lock().unwrap_or_else(|p| p.into_inner()) else { continue };
            // SAFETY: `Team::run` keeps the function alive until `finished` counts this member.
            let f = unsafe { &*job };
            let member = Member { index, count: self.size, barrier: &self.barrier };
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&member))).is_err() {
                abort_team();
            }
            self.finished.fetch_add(1, Release);
        }
    }
}

/// A member panicked (its message is printed already): the others would wait at a barrier for ever.
fn abort_team() -> ! {
    eprintln!("a thread of the inference engine's team panicked; aborting, since its peers cannot finish the pass");
    std::process::abort()
}

impl Drop for Team {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering::Release;
        self.crew.shutdown.store(true, Release);
        {
            let _asleep = self.crew.sleep.lock().unwrap_or_else(|p| p.into_inner());
            self.crew.generation.fetch_add(1, Release);
        }
        self.crew.wake.notify_all();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_kernels::testing::values;

    #[test]
    fn attention_matches_the_definition_at_every_head_size() {
        // Head sizes of one panel (32), of a panel and a half (48: V and the output padded), under one (20)
        // and of two (64); inputs of 1 token, under a panel and over one; two members, each writing its own
        // pairs.
        // Then a long input before short ones: the columns of the Qᵀ panels past a short input's length
        // keep a longer one's queries, which must not reach its output. 64: V read in place over two panels.
        for ((hidden, heads), offsets) in [(64, 2), (96, 2), (60, 3), (128, 2)]
            .into_iter()
            .flat_map(|shape| [(shape, [0usize, 1, 6, 43]), (shape, [0, 37, 42, 43])])
        {
            let d = hidden / heads;
            let tokens = offsets[offsets.len() - 1];
            let qkv: Vec<f32> = values(tokens * 3 * hidden, 5).iter().map(|v| v * 4.0).collect();
            let mut ctx = vec![f32::NAN; tokens * hidden];
            for t in 0..2 {
                // SAFETY: ctx holds tokens × hidden values; the members run one after the other.
                unsafe { attention(&qkv, &offsets, (hidden, heads), SendPtr(ctx.as_mut_ptr()), t, 2) };
            }
            let at = |r: usize, part: usize, head: usize, c: usize| {
                qkv[r * 3 * hidden + part * hidden + head * d + c] as f64
            };
            for s in 0..offsets.len() - 1 {
                let (start, end) = (offsets[s], offsets[s + 1]);
                for head in 0..heads {
                    for i in start..end {
                        let scores: Vec<f64> = (start..end)
                            .map(|j| {
                                (0..d).map(|c| at(i, 0, head, c) * at(j, 1, head, c)).sum::<f64>() / (d as f64).sqrt()
                            })
                            .collect();
                        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        let total: f64 = scores.iter().map(|s| (s - max).exp()).sum();
                        for c in 0..d {
                            let want: f64 = (start..end)
                                .zip(&scores)
                                .map(|(j, s)| (s - max).exp() / total * at(j, 2, head, c))
                                .sum();
                            let got = ctx[i * hidden + head * d + c] as f64;
                            assert!(
                                (got - want).abs() < 1e-5,
                                "h {hidden}, heads {heads}, token {i}, head {head}, column {c}: {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }
}
