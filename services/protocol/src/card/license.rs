//! Licence ids against the SPDX License List (the `spdx` crate's copy, [`spdx::identifiers::VERSION`]).
//!
//! A card holds an SPDX licence id or expression exactly as SPDX writes it (`Apache-2.0`, `MIT OR
//! Apache-2.0`). Hugging Face writes ids in lower case (`apache-2.0`); [`normalize`] maps any case to
//! SPDX's, and nothing else: no guessing from prefixes or imprecise names (`spdx`'s imprecise list maps
//! `gnu gpl v2` to GPL-3.0-only). Deprecated ids are refused with their successors named (`GPL-3.0` is
//! ambiguous between `-only` and `-or-later`), and so are `LicenseRef-`/`DocumentRef-` ids: a card has no
//! place for a custom licence's text.

use spdx::{ParseMode, identifiers::LICENSES};

/// An expression split into words and parentheses.
fn tokens(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in expr.char_indices() {
        if c.is_whitespace() || c == '(' || c == ')' {
            if let Some(s) = start.take() {
                out.push(&expr[s..i]);
            }
            if !c.is_whitespace() {
                out.push(&expr[i..i + 1]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(&expr[s..]);
    }
    out
}

fn is_operator(word: &str) -> bool {
    ["AND", "OR", "WITH"].iter().any(|op| op.eq_ignore_ascii_case(word))
}

/// The SPDX spelling of a licence id written in any case (a trailing `+` kept).
fn license_in_spdx_case(word: &str) -> Option<String> {
    let (base, plus) = match word.strip_suffix('+') {
        Some(base) => (base, "+"),
        None => (word, ""),
    };
    LICENSES.iter().find(|l| l.name.eq_ignore_ascii_case(base)).map(|l| format!("{}{plus}", l.name))
}

fn exception_in_spdx_case(word: &str) -> Option<&'static str> {
    spdx::identifiers::EXCEPTIONS.iter().find(|e| e.name.eq_ignore_ascii_case(word)).map(|e| e.name)
}

/// The expression with every id in SPDX's case and operators in upper case; words that are no SPDX id are
/// left as they are (for [`check`] to name). Parentheses are kept, spacing made canonical.
pub fn normalize(expr: &str) -> String {
    let mut out = String::new();
    let mut after_with = false;
    for word in tokens(expr) {
        let spelled = if is_operator(word) {
            word.to_ascii_uppercase()
        } else if word == "(" || word == ")" {
            word.to_owned()
        } else if after_with {
            exception_in_spdx_case(word).map_or_else(|| word.to_owned(), str::to_owned)
        } else {
            license_in_spdx_case(word).unwrap_or_else(|| word.to_owned())
        };
        after_with = word.eq_ignore_ascii_case("WITH");
        if !(out.is_empty() || out.ends_with('(') || spelled == ")") {
            out.push(' ');
        }
        out.push_str(&spelled);
    }
    out
}

/// Up to three ids of the list closest to `word` (edit distance, ignoring case), deprecated ones left out.
pub fn closest(word: &str) -> Vec<&'static str> {
    let word = word.to_ascii_lowercase();
    let mut scored: Vec<(usize, &'static str)> = LICENSES
        .iter()
        .filter(|l| l.flags & spdx::flags::IS_DEPRECATED == 0)
        .map(|l| (edit_distance(&word, &l.name.to_ascii_lowercase()), l.name))
        .collect();
    scored.sort();
    let limit = (word.len() / 2).max(2);
    scored.into_iter().take_while(|(d, _)| *d <= limit).take(3).map(|(_, name)| name).collect()
}

/// Levenshtein distance over bytes (ids are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// What is wrong with a licence expression as a card must hold it (SPDX ids in SPDX's case); empty when it
/// is fine. Each message names the offending id and what to write instead.
pub fn check(expr: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut after_with = false;
    for word in tokens(expr) {
        let is_exception = after_with;
        after_with = word.eq_ignore_ascii_case("WITH");
        if is_operator(word) || word == "(" || word == ")" {
            continue;
        }
        if is_exception {
            match exception_in_spdx_case(word) {
                Some(name) if name == word => {}
                Some(name) => problems.push(format!("`{word}` is written `{name}` in SPDX (ids are case-sensitive)")),
                None => problems.push(format!("`{word}` is not a licence exception on the SPDX License List")),
            }
            continue;
        }
        let lower = word.to_ascii_lowercase();
        if lower.starts_with("licenseref-") || lower.starts_with("documentref-") {
            problems.push(format!(
                "`{word}`: custom licences are not accepted (a card has no place for the licence text); \
                 use an id from the SPDX License List, such as Apache-2.0"
            ));
            continue;
        }
        match license_in_spdx_case(word) {
            Some(name) => {
                let id = spdx::license_id(&name).expect("found in the list");
                if id.is_deprecated() {
                    let base = name.trim_end_matches('+');
                    let successors: Vec<String> = [format!("{base}-only"), format!("{base}-or-later")]
                        .into_iter()
                        .filter(|s| spdx::license_id(s).is_some())
                        .collect();
                    let instead = if successors.is_empty() {
                        let near = closest(base);
                        if near.is_empty() { String::new() } else { format!("; closest: {}", near.join(", ")) }
                    } else {
                        format!(": write {}", successors.join(" or "))
                    };
                    problems.push(format!("`{word}` is deprecated on the SPDX License List{instead}"));
                } else if name != word {
                    problems.push(format!("`{word}` is written `{name}` in SPDX (ids are case-sensitive)"));
                }
            }
            None => {
                let hint = if lower == "other" || lower == "unknown" {
                    " (Hugging Face's `other` is no licence id; Cairn accepts only ids on the SPDX License List)"
                        .to_owned()
                } else {
                    match closest(word).as_slice() {
                        [] => String::new(),
                        near => format!("; closest: {}", near.join(", ")),
                    }
                };
                problems.push(format!(
                    "`{word}` is not a licence id on the SPDX License List {}{hint}",
                    spdx::identifiers::VERSION
                ));
            }
        }
    }
    if problems.is_empty()
        && let Err(e) = spdx::Expression::parse_mode(expr, ParseMode::STRICT)
    {
        problems.push(format!("`{expr}` is not a valid SPDX expression: {}", e.reason));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hugging_face_lower_case_ids_become_spdx_ids() {
        assert_eq!(normalize("apache-2.0"), "Apache-2.0");
        assert_eq!(normalize("mit or  apache-2.0"), "MIT OR Apache-2.0");
        assert_eq!(normalize("(mit OR bsd-3-clause) and cc-by-4.0"), "(MIT OR BSD-3-Clause) AND CC-BY-4.0");
        assert_eq!(
            normalize("gpl-2.0-or-later with classpath-exception-2.0"),
            "GPL-2.0-or-later WITH Classpath-exception-2.0"
        );
        assert_eq!(normalize("openrail"), "openrail");
        for good in ["Apache-2.0", "MIT OR Apache-2.0", "(MIT OR BSD-3-Clause) AND CC-BY-4.0", "CC-BY-NC-SA-4.0"] {
            assert_eq!(check(good), Vec::<String>::new(), "{good}");
        }
    }

    #[test]
    fn unknown_ids_are_named_with_the_closest_ones() {
        let problems = check("Apache-3.0");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("`Apache-3.0` is not a licence id on the SPDX License List"), "{problems:?}");
        assert!(problems[0].contains("closest: Apache-1.0") || problems[0].contains("Apache-2.0"), "{problems:?}");
        let problems = check("MIT OR Frobnicate-9 OR openrail");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(check("other")[0].contains("Hugging Face's `other`"));
    }

    #[test]
    fn case_deprecated_custom_and_syntax_are_refused() {
        assert_eq!(check("apache-2.0"), ["`apache-2.0` is written `Apache-2.0` in SPDX (ids are case-sensitive)"]);
        assert_eq!(
            check("GPL-3.0"),
            ["`GPL-3.0` is deprecated on the SPDX License List: write GPL-3.0-only or GPL-3.0-or-later"]
        );
        assert!(check("LicenseRef-mine")[0].contains("custom licences are not accepted"));
        assert!(check("MIT OR")[0].contains("is not a valid SPDX expression"), "{:?}", check("MIT OR"));
    }
}
