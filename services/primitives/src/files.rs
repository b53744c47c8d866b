//! `path → sha256` lists: the one set of rules for the files of a model folder, whether they come from a
//! `sha256sum` list (GNU coreutils format) or a manifest's `files` array.
//!
//! Rules (both sources): a path is relative, `/`-separated, with no empty, `.` or `..` component (so it can
//! never name a file outside the folder); a digest is 64 lowercase hex digits (what `sha256sum` prints and
//! what manifests store); a path appears once.

use std::collections::BTreeMap;

use crate::Sha256Digest;

/// Why a file path may not appear in a list, or `Ok` when it may.
///
/// Errors: a static reason, e.g. "must be relative".
pub fn check_relative_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        Err("is empty")
    } else if path.starts_with('/') || path.contains('\\') {
        Err("must be relative and `/`-separated")
    } else if path.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        Err("must have no `.`, `..` or empty parts")
    } else {
        Ok(())
    }
}

/// Parses a digest in the canonical form lists use: 64 lowercase hex digits, no prefix.
fn canonical_digest(text: &str) -> Option<Sha256Digest> {
    let lowercase_hex = text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    lowercase_hex.then(|| text.parse().ok()).flatten()
}

/// What is wrong with a list; every problem is named, each with its line or index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", problems.join("; "))]
pub struct FileListError {
    /// One line per problem, e.g. ``line 3: `../x` must have no `.`, `..` or empty parts``.
    pub problems: Vec<String>,
}

/// The expected sha256 of each file, by path relative to the folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileDigests(BTreeMap<String, Sha256Digest>);

impl FileDigests {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a list from `(where, path, sha256 text)` entries, checking every rule; `where` names the entry
    /// in messages (e.g. `files[2]` or `line 3`).
    ///
    /// Errors: every malformed path or digest, every repeated path, and an empty list.
    pub fn from_entries<'a>(
        entries: impl IntoIterator<Item = (String, &'a str, &'a str)>,
    ) -> Result<Self, FileListError> {
        let mut out = Self::new();
        let mut problems = Vec::new();
        for (at, path, digest) in entries {
            if let Err(why) = check_relative_path(path) {
                problems.push(format!("{at}: path `{path}` {why}"));
            }
            let Some(digest) = canonical_digest(digest) else {
                problems.push(format!("{at}: sha256 `{digest}` is not 64 lowercase hex digits"));
                continue;
            };
            if out.0.insert(path.to_owned(), digest).is_some() {
                problems.push(format!("{at}: path `{path}` is listed twice"));
            }
        }
        if problems.is_empty() && out.0.is_empty() {
            problems.push("the list names no files".into());
        }
        if problems.is_empty() { Ok(out) } else { Err(FileListError { problems }) }
    }

    /// Reads `sha256sum` output: `<64 hex>  <path>` per line (text mode) or `<64 hex> *<path>` (binary mode);
    /// blank lines are skipped.
    ///
    /// Errors: as [`FileDigests::from_entries`], plus lines without the two fields.
    pub fn parse_sha256sum(text: &str) -> Result<Self, FileListError> {
        let mut malformed = Vec::new();
        let entries: Vec<_> = text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .filter_map(|(number, line)| {
                let at = format!("line {}", number + 1);
                // GNU format: the digest, one space, then a space (text) or `*` (binary), then the name.
                match line.split_once(' ').and_then(|(d, rest)| Some((d, rest.strip_prefix([' ', '*'])?))) {
                    Some((digest, path)) => Some((at, path, digest)),
                    None => {
                        malformed.push(format!("{at}: expected `<sha256>  <path>` (sha256sum's format)"));
                        None
                    }
                }
            })
            .collect();
        match Self::from_entries(entries) {
            Ok(list) if malformed.is_empty() => Ok(list),
            Ok(_) => Err(FileListError { problems: malformed }),
            Err(mut e) => {
                malformed.append(&mut e.problems);
                Err(FileListError { problems: malformed })
            }
        }
    }

    /// Adds (or replaces) the digest of `path` (trusted input: no rule is checked).
    pub fn insert(&mut self, path: impl Into<String>, digest: Sha256Digest) -> &mut Self {
        self.0.insert(path.into(), digest);
        self
    }

    /// The digest of `path`, if listed.
    pub fn get(&self, path: &str) -> Option<Sha256Digest> {
        self.0.get(path).copied()
    }

    /// Every `(path, digest)`, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Sha256Digest)> {
        self.0.iter().map(|(p, d)| (p.as_str(), *d))
    }

    /// How many files are listed.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no file is listed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_sha256sum_modes() {
        let d = Sha256Digest::of(b"x");
        let list = FileDigests::parse_sha256sum(&format!("{d}  model.safetensors\n\n{d} *a/b.json\n")).unwrap();
        assert_eq!(list.get("model.safetensors"), Some(d));
        assert_eq!(list.get("a/b.json"), Some(d));
        assert_eq!(list.len(), 2);
        // A file name with spaces keeps them (only the first separator splits).
        let list = FileDigests::parse_sha256sum(&format!("{d}  my model.json\n")).unwrap();
        assert_eq!(list.get("my model.json"), Some(d));
    }

    #[test]
    fn every_problem_is_named_with_its_line() {
        let d = Sha256Digest::of(b"x");
        let text =
            format!("{d}  ../etc/passwd\nnonsense\n{}  a\n{d}  b\n{d}  b\n0x{d}  c\n", d.to_hex().to_uppercase());
        let err = FileDigests::parse_sha256sum(&text).unwrap_err();
        assert_eq!(err.problems.len(), 5, "{err}");
        for expected in [
            "line 1: path `../etc/passwd` must have no",
            "line 2: expected `<sha256>  <path>`",
            "line 3: sha256 `",
            "line 5: path `b` is listed twice",
            "line 6: sha256 `0x",
        ] {
            assert!(err.problems.iter().any(|p| p.starts_with(expected)), "missing {expected}: {err}");
        }
        assert_eq!(FileDigests::parse_sha256sum("\n").unwrap_err().problems, ["the list names no files"]);
    }

    #[test]
    fn paths_stay_inside_the_folder() {
        for ok in ["model.safetensors", "a/b.json", ".hidden", "x..y"] {
            assert_eq!(check_relative_path(ok), Ok(()), "{ok}");
        }
        for bad in ["", "/etc/passwd", "a//b", "./a", "a/..", "a\\b", "a/"] {
            assert!(check_relative_path(bad).is_err(), "{bad}");
        }
    }
}
