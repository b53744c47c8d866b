//! The model card `publish` puts in the manifest: read from the folder's Hugging Face card (`README.md`'s
//! YAML front matter and sections, `data_config.json`), merged with `--card card.json` (see
//! `cairn_protocol::card`).

use std::path::Path;

use anyhow::Context as _;
use cairn_protocol::card::{self, ModelCard};

use crate::{Context, UsageError};

/// The card of `dir`, with `card_file` applied over it (RFC 7396 merge patch: the file wins field by field).
///
/// Errors: an unreadable or non-JSON card file; every problem of the card at once (missing licence or
/// intended use, an unknown licence id, …), with what to do.
pub fn read(ctx: &Context, dir: &Path, card_file: Option<&Path>) -> anyhow::Result<ModelCard> {
    let overrides = match card_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading the card {}", path.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| UsageError(format!("the card {} is not JSON: {e}", path.display())))?;
            Some(value)
        }
        None => None,
    };
    let card = card::from_folder(dir, overrides.as_ref()).map_err(|e| {
        UsageError(format!(
            "the model card of {} is not complete:\n{e}\nstate each in README.md's front matter or in a JSON file \
             passed with --card (the file wins field by field; write \"unknown\" where you do not know); nothing \
             was pinned or registered",
            dir.display()
        ))
    })?;
    let unknown = card.unknown_sections();
    if !unknown.is_empty() {
        ctx.out.note(&format!(
            "the card states these sections as unknown: {} (fill them in with --card to tell buyers more)",
            unknown.join(", ")
        ));
    }
    Ok(card)
}
