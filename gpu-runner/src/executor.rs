//! Executors by runtime id: what an operator executes and a verifier re-executes.
//!
//! A job names its runtime (`candle/bert-embed@1`; on-chain as keccak256 of that string). A runner
//! holds one executor per runtime it serves; later runtimes slot in by implementing [`Executor`].

use std::{collections::BTreeMap, path::Path};

use cairn_primitives::Sha256Digest;

use crate::{
    Error, Result,
    bert::{BertEmbedder, EmbedOptions},
    input::{InputLimits, parse_texts},
    output::{Embeddings, Output},
    verify::{Report, check_claimed_output},
};

/// The runtime id of BERT sentence embeddings (DESIGN.md "Canonical outputs").
pub const BERT_EMBED_V1: &str = "candle/bert-embed@1";

/// Runs one runtime's jobs.
pub trait Executor: Send + Sync {
    /// The runtime id served, e.g. `candle/bert-embed@1`.
    fn runtime(&self) -> &'static str;

    /// Checks a job input against the runtime's format and limits without running it, so a runner refuses
    /// an input it could not run before it claims the job (and bonds stake on it).
    ///
    /// Errors: [`Error::Input`] naming what is wrong.
    fn check_input(&self, input: &[u8]) -> Result<()>;

    /// Runs a job input (the exact bytes fetched from IPFS) and returns the canonical output, which passes
    /// the acceptance rule's own checks (or is an [`Error::UnacceptableOutput`], never an output to sign).
    fn execute(&self, input: &[u8]) -> Result<Output>;

    /// Re-executes `input` and decides whether `claimed` (with the receipt's digest) is acceptable. An own
    /// re-execution that fails the rule's checks is an error, not a judgement.
    fn verify(&self, input: &[u8], claimed: &[u8], claimed_digest: Sha256Digest) -> Result<Report>;
}

/// `candle/bert-embed@1`: a JSON list of strings in, `embeddings` [n, d] f32 out.
pub struct BertEmbedExecutor {
    embedder: BertEmbedder,
    limits: InputLimits,
}

impl BertEmbedExecutor {
    /// Loads and verifies the model in `dir` (see [`BertEmbedder::load`]).
    pub fn load(
        dir: &Path,
        digests: &cairn_primitives::FileDigests,
        options: EmbedOptions,
        limits: InputLimits,
    ) -> Result<Self> {
        Ok(Self { embedder: BertEmbedder::load(dir, digests, options)?, limits })
    }

    /// The embedder inside.
    pub fn embedder(&self) -> &BertEmbedder {
        &self.embedder
    }

    /// Holds our own output to the acceptance rule a verifier applies to it (`cairn_protocol::acceptance`,
    /// run on the output against itself: digest, canonical format, shape, finite values, unit rows; the
    /// cosine of a finite unit row with itself is 1), so a model that yields NaN or unnormalisable rows
    /// never gets an output written or signed.
    fn check_own(&self, output: &Output, embeddings: &Embeddings) -> Result<()> {
        match check_claimed_output(&output.bytes, output.sha256, embeddings).rejection {
            None => Ok(()),
            Some(rejection) => Err(Error::UnacceptableOutput { model: self.embedder.model().to_owned(), rejection }),
        }
    }
}

impl Executor for BertEmbedExecutor {
    fn runtime(&self) -> &'static str {
        BERT_EMBED_V1
    }

    fn check_input(&self, input: &[u8]) -> Result<()> {
        parse_texts(input, &self.limits).map(drop)
    }

    fn execute(&self, input: &[u8]) -> Result<Output> {
        let texts = parse_texts(input, &self.limits)?;
        let embeddings = self.embedder.embed(&texts)?;
        let output = Output::from(&embeddings);
        self.check_own(&output, &embeddings)?;
        Ok(output)
    }

    fn verify(&self, input: &[u8], claimed: &[u8], claimed_digest: Sha256Digest) -> Result<Report> {
        let texts = parse_texts(input, &self.limits)?;
        let reference = self.embedder.embed(&texts)?;
        // A reference with a NaN row would compare as NaN, which no threshold rejects: judge nothing with it.
        self.check_own(&Output::from(&reference), &reference)?;
        Ok(check_claimed_output(claimed, claimed_digest, &reference))
    }
}

/// The executors a runner serves, by runtime id.
#[derive(Default)]
pub struct Executors(BTreeMap<&'static str, Box<dyn Executor>>);

impl Executors {
    /// No executors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `executor`'s runtime (replacing any earlier one for it).
    pub fn register(&mut self, executor: Box<dyn Executor>) -> &mut Self {
        self.0.insert(executor.runtime(), executor);
        self
    }

    /// The executor for `runtime`, or an error listing what is served.
    pub fn get(&self, runtime: &str) -> Result<&dyn Executor> {
        self.0.get(runtime).map(|e| e.as_ref()).ok_or_else(|| Error::UnknownRuntime {
            runtime: runtime.to_owned(),
            known: if self.0.is_empty() {
                "nothing".into()
            } else {
                self.0.keys().copied().collect::<Vec<_>>().join(", ")
            },
        })
    }
}
