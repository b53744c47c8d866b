//! Linear layers with their weights packed once at load, for the fused CPU engine.
//!
//! `y[rows, out] = x[rows, inp] · W[inp, out] + b`, optionally followed by the activation, with `W` stored
//! in column panels of [`NR`] = 32: panel `p` holds columns `32p..32p+32` of every row `0..inp`, k-major and
//! contiguous. A general GEMM (the `gemm` crate, as candle uses) packs `W` again on every call; with a few
//! tokens per call (a single short sentence is ~12) that re-packing, a memory pass over the whole matrix,
//! costs as much as the product itself. Packed once, each call streams every weight exactly once.
//!
//! The micro-kernel keeps a tile of `MR × 32` outputs in registers (AVX-512: 12 rows × 2 zmm = 24 of the 32
//! registers) and walks `k`, loading two vectors of the panel and broadcasting one input value per row: 24
//! FMAs for 2 loads, so it is bound by the FMA units, not by the cache, at every row count. The bias is the
//! accumulator's start value and the activation runs on the tile while it is in L1. A block's last tile
//! prefetches the next panel's chunk of weights, which the next tile reads (AVX-512 kernel). On CPUs without AVX-512 a loop
//! over plain arrays is compiled for AVX2 + FMA (or the baseline): 6 rows per tile, each panel as two halves
//! of 16 columns (12 of AVX2's 16 registers hold the sums), with the same bits as the AVX-512 kernel.
//!
//! A team of threads (`cairn-runner`'s `fused.rs`) splits each product by panels when there are few rows and by equal
//! shares of the rows when there are many ([`PackedLinear::forward_part`]).
//!
//! [`product`] runs the same micro-kernel on operands made per call (attention's `K·Qᵀ` and `P·V`, a few
//! dozen to a few hundred rows): the left operand row-major and packed by the call, or k-major and read in
//! place ([`Lhs`]); the right one given as panels of `NR` columns, laid out by the caller or read in place
//! from a wider matrix (`ldb`). [`transpose`] packs inputs and lays out panels, 4 × 4 values at a time.
//!
//! Rust has no well-kept GEMM library that takes a pre-packed operand (`gemm`, `matrixmultiply` pack per
//! call), hence this module; docs/ARCHITECTURE.md names it among the exceptions.

use crate::cpu::avx512;
use crate::elementwise::{self as kernels, Activation};

/// Columns per panel.
pub const NR: usize = 32;

/// Rows per block (4 AVX-512 tiles): the rows that share one chunk of a panel in L1. Also the least rows per
/// member before a product is split by rows rather than panels.
const ROW_BLOCK: usize = 48;

/// `k` per chunk: 128 × 32 weights (16 KiB) and a block's 48 × 128 inputs (24 KiB) fit a 48 KiB L1.
const KC: usize = 128;

/// A linear layer: weights `[inp, out]` packed in panels of [`NR`] columns, and the bias `[out]`.
pub struct PackedLinear {
    inp: usize,
    out: usize,
    /// `out.div_ceil(NR)` panels of `inp × NR` values (columns past `out` are zero).
    panels: Vec<f32>,
    /// `[out.div_ceil(NR) · NR]`, zero past `out`.
    bias: Vec<f32>,
}

impl PackedLinear {
    /// Packs `w` (`[inp, out]` row-major) and `b` (`[out]`). The caller's `w` is dropped after packing, so
    /// a layer costs its weights' size once (plus at most 31 zero columns).
    ///
    /// Panics when the lengths do not match `inp × out` and `out` (the loader checks every shape first).
    pub fn pack(w: Vec<f32>, b: Vec<f32>, inp: usize, out: usize) -> Self {
        assert!(w.len() == inp * out && b.len() == out && inp > 0 && out > 0, "PackedLinear::pack: shapes");
        let panels_n = out.div_ceil(NR);
        let mut panels = vec![0f32; panels_n * inp * NR];
        for (p, panel) in panels.chunks_exact_mut(inp * NR).enumerate() {
            let cols = (out - p * NR).min(NR);
            for (k, dst) in panel.chunks_exact_mut(NR).enumerate() {
                dst[..cols].copy_from_slice(&w[k * out + p * NR..][..cols]);
            }
        }
        drop(w);
        let mut bias = b;
        bias.resize(panels_n * NR, 0.0);
        Self { inp, out, panels, bias }
    }

    /// `y[rows, out] = act(x[rows, inp] · W + b)`; `x` and `y` row-major with row strides `inp` and `out`;
    /// on the calling thread.
    ///
    /// Panics when `x` or `y` is shorter than `rows` rows.
    pub fn forward(&self, x: &[f32], rows: usize, y: &mut [f32], act: Option<Activation>) {
        assert!(y.len() >= rows * self.out, "PackedLinear::forward: shapes");
        // SAFETY: y holds rows × out values (checked) and is ours alone.
        unsafe { self.forward_part(x, rows, SendPtr(y.as_mut_ptr()), act, 0, 1) }
    }

    /// Member `t` of `n`'s share of `forward` (a team's members together write every output once): with
    /// few rows each member takes a contiguous share of the panels (each streams its own part of the
    /// weights: the case memory bandwidth limits), with many an equal share of the rows, which it runs in
    /// row blocks (each block's inputs stay in L2 while every panel streams past them; shares of whole
    /// blocks left one member up to a block behind: long inputs at batch 1, 224 rows, split 96 : 128); a
    /// product under 2^18 multiply-adds is member 0's alone, as splitting it costs more than it saves.
    ///
    /// # Safety
    /// `y` points at `rows × out` values, and no other thread accesses this member's share of them
    /// during the call. Panics when `x` is shorter than `rows × inp`.
    pub unsafe fn forward_part(&self, x: &[f32], rows: usize, y: SendPtr, act: Option<Activation>, t: usize, n: usize) {
        let (inp, out) = (self.inp, self.out);
        assert!(x.len() >= rows * inp && t < n, "PackedLinear::forward_part: shapes");
        let panels = out.div_ceil(NR);
        // SAFETY (each call): the rows and panels given are inside x and y, and this member's share.
        unsafe {
            if rows * inp * out < 1 << 18 || n == 1 {
                if t == 0 {
                    self.tiles(x, 0, rows, 0, panels, y, act);
                }
            } else if rows < ROW_BLOCK * n {
                let panels = share(panels, t, n);
                self.tiles(x, 0, rows, panels.start, panels.end, y, act);
            } else {
                let mine = share(rows, t, n);
                self.tiles(x, mine.start, mine.end, 0, panels, y, act);
            }
        }
    }

    /// Rows `r0..r1` × panels `p0..p1` of the output.
    ///
    /// Rows go in blocks of [`ROW_BLOCK`] and `k` in chunks of [`KC`]. Each (block, chunk) of the input is
    /// packed once into tiles of `MR` rows stored k-major (so the kernel's broadcasts are sequential, at
    /// constant offsets), then every panel's chunk (16 KiB, in L1 while the block's tiles pass over it)
    /// adds into the block's partial sums (L2 until the last chunk): in `y` itself when the block covers
    /// whole rows of it (every panel, `out` a multiple of NR), else in a per-thread buffer copied out once
    /// per finished block. The activation runs once per finished block.
    ///
    /// # Safety
    /// `x` holds rows `0..r1` of width `inp`; `y` points at an output of at least `r1` rows of width `out`
    /// that no other thread accesses in these rows and panels (in whole rows when `p0..p1` is every panel).
    #[allow(clippy::too_many_arguments)]
    unsafe fn tiles(&self, x: &[f32], r0: usize, r1: usize, p0: usize, p1: usize, y: SendPtr, act: Option<Activation>) {
        let (inp, out) = (self.inp, self.out);
        let mr = rows_per_tile(avx512());
        if r0 >= r1 || p0 >= p1 {
            return;
        }
        let width = (p1 - p0) * NR;
        let cols = (out.min(p1 * NR)) - p0 * NR;
        let mut packed_a = [0f32; ROW_BLOCK * KC];
        // Whole rows of y without padded columns (a member's rows, `out` a multiple of NR) take the
        // partial sums in place; otherwise they go through this thread's buffer and are copied out.
        let direct = p0 == 0 && width == out;
        ACC.with_borrow_mut(|acc| {
            if !direct {
                acc.resize(acc.len().max(ROW_BLOCK * width), 0.0);
            }
            let mut block = r0;
            while block < r1 {
                let rows = (r1 - block).min(ROW_BLOCK);
                let (sums, ldc): (&mut [f32], usize) = if direct {
                    // SAFETY: rows block..block + rows of y, every column: this member's (the contract).
                    (unsafe { std::slice::from_raw_parts_mut(y.get().add(block * out), rows * out) }, out)
                } else {
                    (&mut acc[..rows * width], width)
                };
                let mut k0 = 0;
                while k0 < inp {
                    let kc = (inp - k0).min(KC);
                    pack_rows(&x[block * inp..], inp, rows, k0, kc, mr, &mut packed_a);
                    for p in p0..p1 {
                        let chunk = &self.panels[p * inp * NR + k0 * NR..][..kc * NR];
                        // The first chunk starts from the bias, the others from the partial sums.
                        let start = if k0 == 0 { Some(&self.bias[p * NR..][..NR]) } else { None };
                        let mut r = 0;
                        while r < rows {
                            let m = (rows - r).min(mr);
                            let a = &packed_a[r * kc..(r + m) * kc];
                            // The block's last tile fetches the next panel's chunk, which the next tile reads.
                            let next = if r + m == rows && p + 1 < p1 {
                                &self.panels[(p + 1) * inp * NR + k0 * NR..][..kc * NR]
                            } else {
                                &[]
                            };
                            let ops = Operands { m, kc, a, sa: m, chunk, ldb: NR, start, next };
                            ops.run(&mut sums[r * ldc + (p - p0) * NR..], ldc);
                            r += m;
                        }
                    }
                    k0 += kc;
                }
                for (i, row) in sums.chunks_exact_mut(ldc).enumerate() {
                    if let Some(act) = act {
                        kernels::activation(&mut row[..cols], act);
                    }
                    if !direct {
                        // SAFETY: row block + i < r1 and columns p0·NR..p0·NR+cols ≤ out are inside y, ours.
                        unsafe {
                            std::ptr::copy_nonoverlapping(row.as_ptr(), y.get().add((block + i) * out + p0 * NR), cols);
                        }
                    }
                }
                block += rows;
            }
        });
    }
}

thread_local! {
    /// Each thread's partial sums of a row block (`ROW_BLOCK × panels · NR`) when they cannot go to the
    /// output in place (`tiles`), kept between calls.
    static ACC: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Packs `rows` rows (stride `lda`) × columns `k0..k0 + kc` of `x` into tiles of `mr` rows, each stored
/// k-major (`packed[tile_start · kc + kk · m + i]` for the tile's `m` rows): tile `r` starts at `r · kc`.
fn pack_rows(x: &[f32], lda: usize, rows: usize, k0: usize, kc: usize, mr: usize, packed: &mut [f32]) {
    let mut r = 0;
    while r < rows {
        let m = (rows - r).min(mr);
        transpose(&x[r * lda + k0..], lda, m, kc, &mut packed[r * kc..(r + m) * kc], m);
        r += m;
    }
}

/// `out[kk · ldo + i] = x[i · lda + kk]` for `i < rows`, `kk < cols`: a block of a row-major matrix written
/// k-major (the packed tiles of `pack_rows`; attention's `Qᵀ` panels). Blocks of 4 × 4 go through SSE
/// registers (four loads, eight shuffles, four stores), the edges one value at a time, in place of a loop
/// of one value at a time (BENCHMARKS.md, the engine's second round).
///
/// Panics when `x` or `out` is shorter than the shapes given (or their extent overflows), or `ldo < rows`.
pub fn transpose(x: &[f32], lda: usize, rows: usize, cols: usize, out: &mut [f32], ldo: usize) {
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(
        ldo >= rows && x.len() >= extent(rows, lda, cols) && out.len() >= extent(cols, ldo, rows),
        "packed::transpose: shapes"
    );
    #[cfg(target_arch = "x86_64")]
    let (rows4, cols4) = (rows / 4 * 4, cols / 4 * 4);
    #[cfg(not(target_arch = "x86_64"))]
    let (rows4, cols4) = (0, 0);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: every load reads x[i · lda + kk..+4] with i < rows4 ≤ rows, kk + 4 ≤ cols4 ≤ cols, and every
    // store writes out[kk · ldo + i..+4] with kk < cols, i + 4 ≤ rows ≤ ldo: inside both (checked above).
    unsafe {
        use std::arch::x86_64::*;
        let (src, dst) = (x.as_ptr(), out.as_mut_ptr());
        for i in (0..rows4).step_by(4) {
            for kk in (0..cols4).step_by(4) {
                let r0 = _mm_loadu_ps(src.add(i * lda + kk));
                let r1 = _mm_loadu_ps(src.add((i + 1) * lda + kk));
                let r2 = _mm_loadu_ps(src.add((i + 2) * lda + kk));
                let r3 = _mm_loadu_ps(src.add((i + 3) * lda + kk));
                let (t0, t1) = (_mm_unpacklo_ps(r0, r1), _mm_unpacklo_ps(r2, r3));
                let (t2, t3) = (_mm_unpackhi_ps(r0, r1), _mm_unpackhi_ps(r2, r3));
                _mm_storeu_ps(dst.add(kk * ldo + i), _mm_movelh_ps(t0, t1));
                _mm_storeu_ps(dst.add((kk + 1) * ldo + i), _mm_movehl_ps(t1, t0));
                _mm_storeu_ps(dst.add((kk + 2) * ldo + i), _mm_movelh_ps(t2, t3));
                _mm_storeu_ps(dst.add((kk + 3) * ldo + i), _mm_movehl_ps(t3, t2));
            }
        }
    }
    // The edges: the columns past cols4 of the first rows4 rows, then every column of the rows past rows4.
    for i in 0..rows {
        let from = if i < rows4 { cols4 } else { 0 };
        for kk in from..cols {
            out[kk * ldo + i] = x[i * lda + kk];
        }
    }
}

/// One micro-tile's operands: `m` rows of the input `a`, k-major (row `i`'s k-th value at `a[k · sa + i]`:
/// `sa = m` in a tile packed by `pack_rows`, more when read in place from a wider matrix), the panel's `chunk`
/// (`kc` rows of `NR` values, each row `ldb` values after the previous: `NR` in a packed panel, more when
/// the panel is read in place from a wider matrix), and the start of the sums: `start` (the bias, every
/// row) or, when `None`, the output tile itself (a partial sum).
struct Operands<'a> {
    m: usize,
    kc: usize,
    a: &'a [f32],
    sa: usize,
    chunk: &'a [f32],
    ldb: usize,
    start: Option<&'a [f32]>,
    /// A packed chunk (`kc` rows of `NR`) the next tile will read, fetched into L1 while this one runs (the
    /// next panel's, during a block's last tile; by the AVX-512 kernel only); empty for none.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    next: &'a [f32],
}

impl Operands<'_> {
    /// Runs the micro-kernel on these operands: AVX-512 when the CPU has it, the portable tile otherwise
    /// (`rows_per_tile(avx512())` rows at most); `c` holds `m` rows of `NR` at stride `ldc`.
    fn run(&self, c: &mut [f32], ldc: usize) {
        #[cfg(target_arch = "x86_64")]
        if avx512() {
            // SAFETY: the CPU has AVX-512F (checked); the operands' lengths are checked by the tile.
            return unsafe { avx512_kernel::tile(self, c, ldc) };
        }
        portable::tile(self, c, ldc)
    }
}

/// Rows per micro-tile of the kernel `avx512` selects.
fn rows_per_tile(avx512: bool) -> usize {
    if avx512 { avx512_kernel::MR } else { portable::MR }
}

/// The left operand of [`product`], `m × k`.
#[derive(Clone, Copy)]
pub enum Lhs<'a> {
    /// Row-major, rows `lda` apart (the first `k` values of each row are read): packed by the call.
    Rows {
        /// The matrix.
        a: &'a [f32],
        /// Its row stride, in values.
        lda: usize,
    },
    /// k-major (column-major), element `(i, kk)` at `a[kk · stride + i]`: read in place, as the kernel
    /// reads a packed tile (the transpose of a row-major matrix the caller already has, such as attention's
    /// `Pᵀ`).
    KMajor {
        /// The matrix, k-major.
        a: &'a [f32],
        /// Values between one k step and the next (≥ m).
        stride: usize,
    },
}

/// `c[m, panels · NR] = a[m, k] · b`, for products whose operands are made per call (attention's
/// `K·Qᵀ` and `P·V`), on the calling thread.
///
/// `b` is `panels` panels of `k` rows × [`NR`] columns: panel `p` starts at `b[p · panel_stride]` and its
/// rows are `ldb` apart (a packed panel has `ldb = NR`; a matrix's block of NR columns read in place has its
/// row stride). `c` gets `m` rows of `panels · NR` values, `ldc` apart (the values between them are left as
/// they were). `scratch` holds a packed [`Lhs::Rows`] (grown as needed, kept by the caller between calls).
/// `k` is not split in chunks: the caller keeps `k × NR` (a panel) small enough for L1/L2 (attention:
/// k ≤ 512 positions or the head size).
///
/// Panics when `k` is 0, `ldc < panels · NR`, or `a`, `b` or `c` is shorter than the shapes given.
#[allow(clippy::too_many_arguments)]
pub fn product(
    a: Lhs<'_>,
    m: usize,
    k: usize,
    b: &[f32],
    ldb: usize,
    panel_stride: usize,
    panels: usize,
    c: &mut [f32],
    ldc: usize,
    scratch: &mut Vec<f32>,
) {
    const ZERO: [f32; NR] = [0.0; NR];
    if m == 0 || panels == 0 {
        return;
    }
    assert!(k > 0, "packed::product: k = 0");
    assert!(b.len() >= extent(panels, panel_stride, extent(k, ldb, NR)), "packed::product: b");
    assert!(ldc >= panels * NR && c.len() >= extent(m, ldc, panels * NR), "packed::product: c");
    let mr = rows_per_tile(avx512());
    let (a, stride) = match a {
        Lhs::Rows { a, lda } => {
            assert!(a.len() >= extent(m, lda, k), "packed::product: a");
            scratch.resize(scratch.len().max(m * k), 0.0);
            pack_rows(a, lda, m, 0, k, mr, scratch);
            (&scratch[..], None)
        }
        Lhs::KMajor { a, stride } => {
            assert!(stride >= m && a.len() >= extent(k, stride, m), "packed::product: a");
            (a, Some(stride))
        }
    };
    let mut r = 0;
    while r < m {
        let rows = (m - r).min(mr);
        // A packed tile starts at r · k, its k steps `rows` apart; in place, at r, `stride` apart.
        let (tile, sa) = match stride {
            None => (&a[r * k..(r + rows) * k], rows),
            Some(stride) => (&a[r..], stride),
        };
        for p in 0..panels {
            let chunk = &b[p * panel_stride..];
            let ops = Operands { m: rows, kc: k, a: tile, sa, chunk, ldb, start: Some(&ZERO), next: &[] };
            ops.run(&mut c[r * ldc + p * NR..], ldc);
        }
        r += rows;
    }
}

/// The values a strided block spans: `count` rows (≥ 1) `stride` apart, `last` in the last one. Panics
/// when that overflows `usize`, so a bounds check built on it cannot wrap and pass.
fn extent(count: usize, stride: usize, last: usize) -> usize {
    (count - 1).checked_mul(stride).and_then(|v| v.checked_add(last)).expect("packed: a shape overflows usize")
}

/// Member `t` of `n`'s contiguous share of `0..len` (the shares of `t = 0..n` cover it once, in order).
pub fn share(len: usize, t: usize, n: usize) -> std::ops::Range<usize> {
    (len * t / n)..(len * (t + 1) / n)
}

/// A raw pointer that may cross threads; each task writes a disjoint block (see the use sites).
#[derive(Clone, Copy)]
pub struct SendPtr(pub *mut f32);
// SAFETY: only used for disjoint writes, documented at each use site.
unsafe impl Send for SendPtr {}
// SAFETY: as above.
unsafe impl Sync for SendPtr {}

impl SendPtr {
    /// The pointer.
    pub fn get(self) -> *mut f32 {
        self.0
    }
}

/// The AVX-512 micro-kernel: up to 12 rows × 32 columns in 24 zmm accumulators.
mod avx512_kernel {
    use super::{NR, Operands};

    /// Rows per tile.
    pub(super) const MR: usize = 12;

    /// `c[i, j] = s[i, j] + Σ_k a[k · sa + i] · chunk[k · ldb + j]` for `i < m ≤ MR`, `j < NR`, `k < kc`
    /// (`a` k-major: packed by `pack_rows` with `sa = m`, or read in place), where `s` is `start` (the
    /// bias, every row) or, when `None`, `c` itself (a partial sum). `c`'s rows are `ldc` apart.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; `a` holds `kc` steps of `m` values `sa` apart, `chunk` `kc` rows of
    /// `NR` at stride `ldb`, `c` `m` rows of `NR` at stride `ldc`, `start` (when given) `NR`.
    #[cfg(target_arch = "x86_64")]
    pub(super) unsafe fn tile(ops: &Operands<'_>, c: &mut [f32], ldc: usize) {
        let &Operands { m, kc, a, sa, chunk, ldb, start, next } = ops;
        assert!(m <= MR && kc > 0 && sa >= m && a.len() >= super::extent(kc, sa, m));
        assert!(chunk.len() >= super::extent(kc, ldb, NR));
        assert!(c.len() >= super::extent(m, ldc, NR) && start.is_none_or(|s| s.len() >= NR));
        // One pointer for reading and writing `c` (a shared reborrow taken first would be invalidated).
        let out = c.as_mut_ptr();
        // Prefetched only when it holds the whole chunk (a prefetch never faults, but stays in bounds): one
        // step of it per step of k, two cache lines, so the next tile finds its chunk in L1.
        let next = if next.len() >= kc * NR { next.as_ptr() } else { std::ptr::null() };
        let (init, init_stride) = match start {
            Some(bias) => (bias.as_ptr(), 0),
            None => (out.cast_const(), ldc),
        };
        // One monomorphised loop per row count, so the accumulators are registers, not memory.
        macro_rules! dispatch {
            ($($n:literal)*) => {
                match m {
                    $($n => unsafe {
                        rows::<$n>(kc, (a.as_ptr(), sa), (chunk.as_ptr(), ldb), (init, init_stride), out, ldc, next)
                    },)*
                    _ => unreachable!("m ≤ MR"),
                }
            };
        }
        dispatch!(1 2 3 4 5 6 7 8 9 10 11 12);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn rows<const M: usize>(
        kc: usize,
        (a, sa): (*const f32, usize),
        (b, ldb): (*const f32, usize),
        (init, init_stride): (*const f32, usize),
        c: *mut f32,
        ldc: usize,
        next: *const f32,
    ) {
        use std::arch::x86_64::*;
        // SAFETY (whole body): the caller's bounds (see `tile`); `init` may alias `c`, read before written.
        unsafe {
            let mut lo = [_mm512_setzero_ps(); M];
            let mut hi = [_mm512_setzero_ps(); M];
            for i in 0..M {
                lo[i] = _mm512_loadu_ps(init.add(i * init_stride));
                hi[i] = _mm512_loadu_ps(init.add(i * init_stride + 16));
            }
            for kk in 0..kc {
                let w0 = _mm512_loadu_ps(b.add(kk * ldb));
                let w1 = _mm512_loadu_ps(b.add(kk * ldb + 16));
                let col = a.add(kk * sa);
                if !next.is_null() {
                    _mm_prefetch::<_MM_HINT_T0>(next.add(kk * NR).cast());
                    _mm_prefetch::<_MM_HINT_T0>(next.add(kk * NR + 16).cast());
                }
                for i in 0..M {
                    let v = _mm512_set1_ps(*col.add(i));
                    lo[i] = _mm512_fmadd_ps(v, w0, lo[i]);
                    hi[i] = _mm512_fmadd_ps(v, w1, hi[i]);
                }
            }
            for i in 0..M {
                _mm512_storeu_ps(c.add(i * ldc), lo[i]);
                _mm512_storeu_ps(c.add(i * ldc + 16), hi[i]);
            }
        }
    }
}

/// The same tile over plain arrays, for CPUs without AVX-512 (compiled again for AVX2 + FMA).
mod portable {
    use super::{NR, Operands};

    /// Rows per tile: the panel runs as two halves of 16 columns, each 6 rows × 2 ymm = 12 accumulators,
    /// leaving AVX2's 16 registers room for the two weight vectors and the broadcast (a BLIS-style 6 × 16).
    pub(super) const MR: usize = 6;

    /// Columns per half panel.
    const HALF: usize = NR / 2;

    #[inline(always)]
    fn generic(ops: &Operands<'_>, c: &mut [f32], ldc: usize) {
        // `next` is not prefetched here: measured with AVX-512 turned off, it gained nothing on this kernel.
        let &Operands { m, kc, a, sa, chunk, ldb, start, .. } = ops;
        macro_rules! dispatch {
            ($($n:literal)*) => {
                match m {
                    $($n => rows::<$n>(kc, a, sa, chunk, ldb, start, c, ldc),)*
                    _ => unreachable!("m ≤ MR"),
                }
            };
        }
        dispatch!(1 2 3 4 5 6);
    }

    /// One monomorphised loop per row count, so the accumulators can be registers.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn rows<const M: usize>(
        kc: usize,
        a: &[f32],
        sa: usize,
        chunk: &[f32],
        ldb: usize,
        start: Option<&[f32]>,
        c: &mut [f32],
        ldc: usize,
    ) {
        for h in 0..2 {
            let cols = h * HALF..(h + 1) * HALF;
            let mut acc = [[0f32; HALF]; M];
            for (i, row) in acc.iter_mut().enumerate() {
                row.copy_from_slice(&start.unwrap_or(&c[i * ldc..i * ldc + NR])[cols.clone()]);
            }
            for kk in 0..kc {
                let w = &chunk[kk * ldb + cols.start..][..HALF];
                let col = &a[kk * sa..][..M];
                for (row, &v) in acc.iter_mut().zip(col) {
                    for (o, w) in row.iter_mut().zip(w) {
                        *o = v.mul_add(*w, *o);
                    }
                }
            }
            for (i, row) in acc.iter().enumerate() {
                c[i * ldc + cols.start..][..HALF].copy_from_slice(row);
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn avx2(ops: &Operands<'_>, c: &mut [f32], ldc: usize) {
        generic(ops, c, ldc)
    }

    /// As the AVX-512 `tile`, for `m ≤ MR` (6) rows.
    pub(super) fn tile(ops: &Operands<'_>, c: &mut [f32], ldc: usize) {
        #[cfg(target_arch = "x86_64")]
        if crate::cpu::avx2() {
            // SAFETY: the CPU supports AVX2 and FMA (checked).
            return unsafe { avx2(ops, c, ldc) };
        }
        generic(ops, c, ldc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::values;

    /// y = x·W + b in f64, the reference.
    fn reference(x: &[f32], w: &[f32], b: &[f32], rows: usize, inp: usize, out: usize) -> Vec<f64> {
        let mut y = vec![0f64; rows * out];
        for r in 0..rows {
            for j in 0..out {
                y[r * out + j] =
                    b[j] as f64 + (0..inp).map(|k| x[r * inp + k] as f64 * w[k * out + j] as f64).sum::<f64>();
            }
        }
        y
    }

    #[test]
    fn every_shape_matches_the_definition() {
        // Row counts around the tile (12), the row block (48) and the sequential threshold; widths that are
        // and are not multiples of the panel; the portable kernel's 6-row tiles are covered by the same
        // sizes on CPUs without AVX-512.
        for &(rows, inp, out) in &[
            (1, 3, 1),
            (1, 384, 1152),
            (5, 17, 33),
            (12, 384, 384),
            (13, 64, 96),
            (47, 40, 70),
            (97, 384, 1536),
            (200, 129, 31),
        ] {
            let (x, w, b) = (values(rows * inp, 1), values(inp * out, 2), values(out, 3));
            let want = reference(&x, &w, &b, rows, inp, out);
            let layer = PackedLinear::pack(w, b, inp, out);
            let mut y = vec![f32::NAN; rows * out];
            layer.forward(&x, rows, &mut y, None);
            for (i, (got, want)) in y.iter().zip(&want).enumerate() {
                assert!(((*got as f64) - want).abs() < 1e-4, "{rows}×{inp}×{out} at {i}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn members_shares_together_give_the_bits_of_one_thread() {
        // A team of n members each writes its share (panels when rows are few, equal shares of the rows when
        // many, whatever their alignment to the row blocks): run one after the other into one output, they
        // must give every value once and the same bits as a single thread. Widths a multiple of the panel (sums
        // in place) and not (through the thread's buffer); an activation on the finished blocks.
        let inp = 70;
        for out in [64, 70] {
            let (w, b) = (values(inp * out, 4), values(out, 5));
            let layer = PackedLinear::pack(w, b, inp, out);
            for n in 2..=5 {
                for rows in [n, 48 * n - 1, 48 * n, 48 * n + 1, 48 * n + 7, 48 * n + 50] {
                    let x = values(rows * inp, 6);
                    let mut one = vec![f32::NAN; rows * out];
                    layer.forward(&x, rows, &mut one, Some(Activation::Gelu));
                    let mut team = vec![f32::NAN; rows * out];
                    for t in 0..n {
                        // SAFETY: team holds rows × out values; the members run one after the other.
                        unsafe {
                            layer.forward_part(&x, rows, SendPtr(team.as_mut_ptr()), Some(Activation::Gelu), t, n)
                        };
                    }
                    for (i, (a, b)) in one.iter().zip(&team).enumerate() {
                        assert_eq!(a.to_bits(), b.to_bits(), "out {out}, {n} members, {rows} rows, value {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_product_of_panels_read_in_place_matches_the_definition() {
        // Attention's shapes: m and k around the tile (12) and not multiples of it; b read in place from a
        // wider matrix (ldb > NR, panels NR apart) and from packed panels (ldb = NR, panels k·NR apart); a
        // row-major (packed by the call) and k-major in place (its transpose, wider than m); c wider than
        // the panels written, whose other columns must stay as they were.
        let shapes = [(1, 1, 1, false), (5, 32, 1, true), (13, 37, 3, false), (25, 224, 2, true)];
        for (&(m, k, panels, in_place), k_major) in shapes.iter().flat_map(|s| [(s, false), (s, true)]) {
            let lda = k + 3;
            let a = values((m - 1) * lda + k, 11);
            let stride = m + 5;
            let mut at = vec![f32::NAN; (k - 1) * stride + m];
            for i in 0..m {
                for kk in 0..k {
                    at[kk * stride + i] = a[i * lda + kk];
                }
            }
            let lhs = if k_major { Lhs::KMajor { a: &at, stride } } else { Lhs::Rows { a: &a, lda } };
            let (ldb, panel_stride) = if in_place { (panels * NR + 7, NR) } else { (NR, k * NR) };
            let b = values((panels - 1) * panel_stride + (k - 1) * ldb + NR, 12);
            let ldc = panels * NR + 2;
            let mut c = vec![f32::NAN; m * ldc];
            let mut scratch = Vec::new();
            product(lhs, m, k, &b, ldb, panel_stride, panels, &mut c, ldc, &mut scratch);
            for i in 0..m {
                for j in 0..panels * NR {
                    let (p, col) = (j / NR, j % NR);
                    let want: f64 =
                        (0..k).map(|kk| a[i * lda + kk] as f64 * b[p * panel_stride + kk * ldb + col] as f64).sum();
                    let got = c[i * ldc + j] as f64;
                    assert!((got - want).abs() < 1e-4, "{m}×{k}×{panels} at ({i}, {j}): {got} vs {want}");
                }
                assert!(
                    c[i * ldc + panels * NR..(i + 1) * ldc].iter().all(|v| v.is_nan()),
                    "row {i} written past its panels"
                );
            }
        }
    }

    #[test]
    fn transpose_writes_every_value_once_and_nothing_else() {
        // Blocks of 4 and their edges: row and column counts below, at and past multiples of 4.
        for (rows, cols) in [(1, 1), (3, 5), (4, 4), (12, 32), (13, 7), (32, 37)] {
            let (lda, ldo) = (cols + 2, rows + 3);
            let x = values((rows - 1) * lda + cols, 13);
            let mut out = vec![f32::NAN; (cols - 1) * ldo + rows + 1];
            transpose(&x, lda, rows, cols, &mut out, ldo);
            for (at, v) in out.iter().enumerate() {
                let (kk, i) = (at / ldo, at % ldo);
                if i < rows && kk < cols {
                    assert_eq!(*v, x[i * lda + kk], "{rows}×{cols}: row {i}, column {kk}");
                } else {
                    assert!(v.is_nan(), "{rows}×{cols}: wrote {at} outside the block");
                }
            }
        }
    }

    #[test]
    fn the_portable_kernel_matches_the_definition() {
        // CPUs without AVX-512 run this tile; this machine may not pick it, so call it directly: m rows of
        // a k-major packed input, from the bias and then from its own partial sums.
        // The input packed (sa = m) and read in place (sa > m); the panel packed (ldb = NR) and read in
        // place from a wider matrix (ldb > NR).
        let kc = 37;
        for (m, sa, ldb) in (1..=portable::MR).flat_map(|m| [(m, m, NR), (m, m + 3, NR + 9)]) {
            let (a, chunk, bias) = (values((kc - 1) * sa + m, 7), values((kc - 1) * ldb + NR, 8), values(NR, 9));
            let ldc = NR + 5;
            let mut c = vec![f32::NAN; (m - 1) * ldc + NR];
            portable::tile(
                &Operands { m, kc, a: &a, sa, chunk: &chunk, ldb, start: Some(&bias), next: &[] },
                &mut c,
                ldc,
            );
            portable::tile(&Operands { m, kc, a: &a, sa, chunk: &chunk, ldb, start: None, next: &[] }, &mut c, ldc);
            for i in 0..m {
                for j in 0..NR {
                    let dot: f64 = (0..kc).map(|k| a[k * sa + i] as f64 * chunk[k * ldb + j] as f64).sum();
                    let want = bias[j] as f64 + 2.0 * dot;
                    let got = c[i * ldc + j] as f64;
                    assert!((got - want).abs() < 1e-4, "m {m}, row {i}, column {j}: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_avx2_and_avx512_kernels_give_the_same_bits() {
        // Every output is the same chain of fused multiply-adds over k from the same start in both kernels, so
        // a verifier on a CPU without AVX-512 computes the same bytes as the operator that ran with it.
        if !crate::cpu::avx512() {
            eprintln!("no AVX-512 on this CPU: nothing to compare");
            return;
        }
        let kc = 53;
        for (m, sa, ldb) in (1..=portable::MR).flat_map(|m| [(m, m, NR), (m, m + 3, NR + 9)]) {
            let (a, chunk, bias) = (values((kc - 1) * sa + m, 3), values((kc - 1) * ldb + NR, 4), values(NR, 5));
            let ldc = NR + 5;
            let run = |tile: &dyn Fn(&Operands<'_>, &mut [f32])| {
                let mut c = vec![f32::NAN; (m - 1) * ldc + NR];
                tile(&Operands { m, kc, a: &a, sa, chunk: &chunk, ldb, start: Some(&bias), next: &[] }, &mut c);
                tile(&Operands { m, kc, a: &a, sa, chunk: &chunk, ldb, start: None, next: &chunk }, &mut c);
                c
            };
            let avx2 = run(&|ops, c| portable::tile(ops, c, ldc));
            // SAFETY: the CPU has AVX-512F (checked above); the operands are sized as the tile asserts.
            let avx512 = run(&|ops, c| unsafe { avx512_kernel::tile(ops, c, ldc) });
            for (i, (x, y)) in avx2.iter().zip(&avx512).enumerate() {
                if i % ldc < NR {
                    assert_eq!(x.to_bits(), y.to_bits(), "m {m}, sa {sa}, ldb {ldb}, output {i}");
                }
            }
        }
    }

    #[test]
    fn the_activation_runs_on_every_output() {
        let (rows, inp, out) = (30, 64, 100);
        let (x, w, b) = (values(rows * inp, 4), values(inp * out, 5), values(out, 6));
        let layer = PackedLinear::pack(w.clone(), b.clone(), inp, out);
        let (mut plain, mut fused) = (vec![0f32; rows * out], vec![0f32; rows * out]);
        layer.forward(&x, rows, &mut plain, None);
        layer.forward(&x, rows, &mut fused, Some(Activation::Gelu));
        for row in plain.chunks_exact_mut(out) {
            kernels::activation(row, Activation::Gelu);
        }
        assert_eq!(plain, fused);
    }
}
