//! The acceptance rule for a claimed `candle/bert-embed@1` output (DESIGN.md "Canonical outputs and
//! verification"). Floating point differs across hardware, so an honest re-execution is compared by
//! tolerance; the receipt's digest fixes which bytes were delivered.

use std::fmt;

use cairn_primitives::Sha256Digest;

use crate::output::{self, Embeddings};

/// Most a row's L2 norm may differ from 1.
pub const NORM_TOLERANCE: f32 = 1e-4;
/// Least cosine a claimed row must have with the verifier's own.
pub const MIN_COSINE: f32 = 0.999;

/// Why a claimed output is not acceptable.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// The bytes do not hash to the receipt's outputDigest.
    DigestMismatch {
        /// The receipt's digest.
        claimed: Sha256Digest,
        /// What the bytes hash to.
        actual: Sha256Digest,
    },
    /// Not a canonical output (see [`crate::output`]); holds the reason alone, the display adds
    /// "not a canonical output: ".
    Malformed(String),
    /// Wrong number of rows or wrong width.
    Shape {
        /// `[n_inputs, d]` expected.
        expected: [usize; 2],
        /// What the file holds.
        found: [usize; 2],
    },
    /// A NaN or infinity.
    NotFinite {
        /// The row.
        row: usize,
    },
    /// A row is not unit length.
    Norm {
        /// The row.
        row: usize,
        /// Its norm.
        norm: f32,
    },
    /// A row points elsewhere than the verifier's.
    Cosine {
        /// The worst row.
        row: usize,
        /// Its cosine with the verifier's row.
        cosine: f32,
    },
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DigestMismatch { claimed, actual } => {
                write!(f, "output hashes to {actual}, but the receipt claims {claimed}")
            }
            Self::Malformed(why) => write!(f, "not a canonical output: {why}"),
            Self::Shape { expected, found } => write!(f, "shape {found:?}, expected {expected:?}"),
            Self::NotFinite { row } => write!(f, "row {row} holds a NaN or infinity"),
            Self::Norm { row, norm } => write!(f, "row {row} has norm {norm}, not within {NORM_TOLERANCE} of 1"),
            Self::Cosine { row, cosine } => {
                write!(f, "row {row} has cosine {cosine:.6} with the re-execution, below {MIN_COSINE}")
            }
        }
    }
}

/// The verifier's finding: acceptable or not, with the worst row either way.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// `None` when acceptable.
    pub rejection: Option<Rejection>,
    /// The row with the lowest cosine, and that cosine (when shapes allowed a comparison).
    pub worst_row: Option<(usize, f32)>,
}

impl Report {
    /// Whether the claimed output is acceptable (ruling 1) or not (ruling 2).
    pub fn acceptable(&self) -> bool {
        self.rejection.is_none()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.rejection, self.worst_row) {
            (None, Some((row, cos))) => write!(f, "acceptable (worst row {row}, cosine {cos:.6})"),
            (None, None) => write!(f, "acceptable"),
            (Some(why), _) => write!(f, "not acceptable: {why}"),
        }
    }
}

/// Decides whether `claimed` (the fetched bytes) is an acceptable answer, given the receipt's digest and
/// the verifier's own re-execution `reference` of the same inputs.
///
/// In order: the sha256 must equal `claimed_digest`; the bytes must be a canonical output as
/// [`Embeddings::from_safetensors`] reads it (what the `safetensors` crate refuses, or reads differently
/// from the one canonical spelling, is [`Rejection::Malformed`]); then shape, finiteness, unit norm and
/// cosine as DESIGN.md states them.
pub fn check_claimed_output(claimed: &[u8], claimed_digest: Sha256Digest, reference: &Embeddings) -> Report {
    let reject = |rejection, worst_row| Report { rejection: Some(rejection), worst_row };
    let actual = Sha256Digest::of(claimed);
    if actual != claimed_digest {
        return reject(Rejection::DigestMismatch { claimed: claimed_digest, actual }, None);
    }
    let output = match output::read_canonical(claimed) {
        Ok(output) => output,
        Err(why) => return reject(Rejection::Malformed(why), None),
    };
    if [output.rows, output.dim] != [reference.rows, reference.dim] {
        let shape = Rejection::Shape { expected: [reference.rows, reference.dim], found: [output.rows, output.dim] };
        return reject(shape, None);
    }
    let mut worst: Option<(usize, f32)> = None;
    for row in 0..output.rows {
        let (mine, theirs) = (output.row(row), reference.row(row));
        if mine.iter().any(|v| !v.is_finite()) {
            return reject(Rejection::NotFinite { row }, worst);
        }
        let norm = dot(mine, mine).sqrt();
        if (norm - 1.0).abs() > NORM_TOLERANCE {
            return reject(Rejection::Norm { row, norm }, worst);
        }
        let cosine = dot(mine, theirs) / (norm * dot(theirs, theirs).sqrt()).max(f32::MIN_POSITIVE);
        // A NaN cosine (a non-finite reference row) is the worst of all and never passes: `NaN < x` is false,
        // so a plain `<` would let it through.
        if cosine.is_nan() || worst.is_none_or(|(_, c)| cosine < c) {
            worst = Some((row, cosine));
        }
    }
    match worst {
        Some((row, cosine)) if cosine.is_nan() || cosine < MIN_COSINE => {
            reject(Rejection::Cosine { row, cosine }, worst)
        }
        _ => Report { rejection: None, worst_row: worst },
    }
}

/// Dot product accumulated in f64, so the rule does not depend on summation order.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum::<f64>() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_rows(rows: &[[f32; 3]]) -> Embeddings {
        let data = rows
            .iter()
            .flat_map(|r| {
                let n = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
                r.map(|v| v / n)
            })
            .collect();
        Embeddings { rows: rows.len(), dim: 3, data }
    }

    fn claim(e: &Embeddings) -> (Vec<u8>, Sha256Digest) {
        let bytes = e.to_safetensors();
        let digest = Sha256Digest::of(&bytes);
        (bytes, digest)
    }

    #[test]
    fn accepts_a_close_reexecution_and_names_the_worst_row() {
        let reference = unit_rows(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
        let claimed = unit_rows(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.02]]);
        let (bytes, digest) = claim(&claimed);
        let report = check_claimed_output(&bytes, digest, &reference);
        assert!(report.acceptable(), "{report}");
        assert_eq!(report.worst_row.unwrap().0, 1);
    }

    #[test]
    fn rejects_each_violation_of_the_rule() {
        let reference = unit_rows(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
        let (bytes, _) = claim(&reference);

        let other = Sha256Digest::of(b"x");
        let r = check_claimed_output(&bytes, other, &reference);
        assert!(matches!(r.rejection, Some(Rejection::DigestMismatch { .. })), "{r}");

        let (bytes1, d1) = claim(&unit_rows(&[[1.0, 0.0, 0.0]]));
        let r = check_claimed_output(&bytes1, d1, &reference);
        assert!(matches!(r.rejection, Some(Rejection::Shape { expected: [2, 3], found: [1, 3] })), "{r}");

        let mut nan = reference.clone();
        nan.data[4] = f32::NAN;
        let (b, d) = claim(&nan);
        assert!(matches!(check_claimed_output(&b, d, &reference).rejection, Some(Rejection::NotFinite { row: 1 })));

        let mut long = reference.clone();
        long.data[0] = 1.001;
        let (b, d) = claim(&long);
        assert!(matches!(check_claimed_output(&b, d, &reference).rejection, Some(Rejection::Norm { row: 0, .. })));

        let off = unit_rows(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.1]]);
        let (b, d) = claim(&off);
        let r = check_claimed_output(&b, d, &reference);
        assert!(matches!(r.rejection, Some(Rejection::Cosine { row: 1, .. })), "{r}");
        assert!(r.to_string().contains("row 1"), "{r}");

        let junk = b"not a safetensors file".to_vec();
        let r = check_claimed_output(&junk, Sha256Digest::of(&junk), &reference);
        assert!(matches!(r.rejection, Some(Rejection::Malformed(_))), "{r}");

        // A verifier whose own re-execution went non-finite cannot vouch for a claim: NaN never passes.
        let mut broken_reference = reference.clone();
        broken_reference.data[3] = f32::NAN;
        let r = check_claimed_output(&bytes, claim(&reference).1, &broken_reference);
        assert!(matches!(r.rejection, Some(Rejection::Cosine { row: 1, .. })), "{r}");
    }

    #[test]
    fn a_malformed_output_is_named_once() {
        let reference = unit_rows(&[[1.0, 0.0, 0.0]]);
        let junk = b"not a safetensors file".to_vec();
        let report = check_claimed_output(&junk, Sha256Digest::of(&junk), &reference).to_string();
        assert_eq!(report.matches("not a canonical output").count(), 1, "{report}");
        assert!(
            report.starts_with("not acceptable: not a canonical output: the safetensors reader refuses"),
            "{report}"
        );
    }
}
