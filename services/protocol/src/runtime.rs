//! Runtime ids: on chain a runtime is `keccak256` of its UTF-8 name (e.g. `candle/bert-embed@1`); a runner
//! build is `keccak256` of the runner's version string.

use alloy::primitives::{B256, keccak256};

/// A runtime the network knows how to execute and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    /// Sentence embeddings with a BERT model (mean pooling, L2 norm), output per DESIGN.md.
    BertEmbedV1,
}

impl Runtime {
    /// Every known runtime.
    pub const ALL: &'static [Runtime] = &[Runtime::BertEmbedV1];

    /// The runtime's name as written in manifests.
    pub const fn name(self) -> &'static str {
        match self {
            Runtime::BertEmbedV1 => "candle/bert-embed@1",
        }
    }

    /// The weights file the runtime loads (safetensors), relative to the model folder.
    pub const fn weights_file(self) -> &'static str {
        match self {
            Runtime::BertEmbedV1 => "model.safetensors",
        }
    }

    /// Every file the runtime reads from a model folder (the weights, the architecture, the tokenizer); a
    /// seller's folder must hold them all.
    pub const fn required_files(self) -> &'static [&'static str] {
        match self {
            // The weights, the architecture, the tokenizer, sentence-transformers' `max_seq_length`.
            Runtime::BertEmbedV1 => {
                &["model.safetensors", "config.json", "tokenizer.json", "sentence_bert_config.json"]
            }
        }
    }

    /// The on-chain id: `keccak256(name)`.
    pub fn id(self) -> B256 {
        keccak256(self.name())
    }

    /// The runtime with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.name() == name)
    }

    /// The runtime with this on-chain id.
    pub fn from_id(id: B256) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.id() == id)
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The `runnerBuild` of a receipt: `keccak256` of the runner's version string.
pub fn runner_build(version: &str) -> B256 {
    keccak256(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bert_embed_id_is_keccak_of_its_name() {
        // The value the contracts' tests and the EIP-712 vectors use.
        let id: B256 = "0x04ebcccb41391df9c02267eb0e98069e1f58b683b7167e35db409671f744e0a2".parse().unwrap();
        assert_eq!(Runtime::BertEmbedV1.id(), id);
        assert_eq!(Runtime::from_id(id), Some(Runtime::BertEmbedV1));
        assert_eq!(Runtime::from_name("candle/bert-embed@1"), Some(Runtime::BertEmbedV1));
        assert_eq!(Runtime::from_name("candle/bert-embed@2"), None);
    }
}
