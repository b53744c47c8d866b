//! The committed JSON Schema of the card, run by the `jsonschema` crate, its errors turned into problems
//! a seller can act on: each names the field by JSON pointer and says what the schema's own `description`
//! of that field says is expected.

use std::sync::OnceLock;

use jsonschema::{ValidationError, error::ValidationErrorKind};
use serde_json::Value;

use super::Problem;

/// The card's JSON Schema (draft 2020-12), as committed in `services/protocol/schema/model-card.schema.json`.
pub const SCHEMA_JSON: &str = include_str!("../../schema/model-card.schema.json");

/// The schema as a JSON value.
pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| serde_json::from_str(SCHEMA_JSON).expect("the committed schema is JSON (a test checks)"))
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| jsonschema::draft202012::new(schema()).expect("the committed schema compiles (a test checks)"))
}

/// Every schema violation of `card`, in the validator's order.
pub(super) fn problems(card: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    for error in validator().iter_errors(card) {
        explain(&error, &mut out);
    }
    out
}

/// A short rendering of a value for a message (long texts cut).
fn show(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 { format!("{}…", text.chars().take(57).collect::<String>()) } else { text }
}

/// The schema object at a JSON pointer into the schema document.
fn schema_at(pointer: &str) -> Option<&'static Value> {
    schema().pointer(pointer)
}

/// The nearest `description` at or above the schema location `pointer` (the keyword's parent first).
fn description(pointer: &str) -> Option<&'static str> {
    let mut p = pointer;
    while !p.is_empty() {
        if let Some(d) = schema_at(p).and_then(|s| s.get("description")).and_then(Value::as_str) {
            return Some(d);
        }
        if let Some(target) = schema_at(p).and_then(|s| s.get("$ref")).and_then(Value::as_str)
            && let Some(d) = target.strip_prefix('#').and_then(schema_at).and_then(|s| s.get("description"))
        {
            return d.as_str();
        }
        // The root's description documents the whole card; it is no hint for one field.
        p = &p[..p.rfind('/').unwrap_or(0)];
    }
    None
}

/// The schema object that holds the keyword at `keyword_pointer`.
fn parent(keyword_pointer: &str) -> &str {
    keyword_pointer.rfind('/').map_or("", |i| &keyword_pointer[..i])
}

/// The `description` of the field an error is about: the deepest schema reached through `properties/<name>`
/// or `items` along the evaluation path (which names the `$ref`s it went through), or the description of
/// what such a field refers to. Descriptions of shared definitions (`#/$defs/unknown`) never win over the
/// field's own.
fn field_description(evaluation_path: &str) -> Option<&'static str> {
    let mut node = schema();
    let mut found = None;
    let mut field_without_description = false;
    let segments: Vec<String> =
        evaluation_path.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
    for (i, segment) in segments.iter().enumerate() {
        if segment == "$ref" {
            let target = node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#'));
            node = target.and_then(schema_at)?;
            if field_without_description && let Some(d) = node.get("description").and_then(Value::as_str) {
                found = Some(d);
            }
            field_without_description = false;
            continue;
        }
        node = match node {
            Value::Array(a) => a.get(segment.parse::<usize>().ok()?)?,
            other => other.get(segment)?,
        };
        let is_field = segment == "items" || (i > 0 && segments[i - 1] == "properties");
        if is_field {
            match node.get("description").and_then(Value::as_str) {
                Some(d) => {
                    found = Some(d);
                    field_without_description = false;
                }
                None => field_without_description = true,
            }
        }
    }
    found
}

/// The description of property `name` of the object schema at `holder` (or of the object schema holding the
/// `if`/`then`/`else` branch `holder` is).
fn property_description(holder: &str, name: &str) -> Option<&'static str> {
    let mut holder = holder;
    loop {
        if let Some(d) = schema_at(&format!("{holder}/properties/{name}")).and_then(|p| p.get("description")) {
            return d.as_str();
        }
        holder = holder.strip_suffix("/then").or_else(|| holder.strip_suffix("/else"))?;
    }
}

fn explain(error: &ValidationError<'_>, out: &mut Vec<Problem>) {
    let at = error.instance_path().as_str().to_owned();
    let keyword_at = error.schema_path().as_str();
    let holder = parent(keyword_at);
    let expected = field_description(error.evaluation_path().as_str())
        .or_else(|| description(holder))
        .unwrap_or("see the card schema");
    let instance = error.instance();
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let hint = property_description(holder, name).unwrap_or("see the card schema");
            out.push(Problem::new(format!("{at}/{name}"), format!("missing ({hint})")));
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed: Vec<&str> = schema_at(&format!("{holder}/properties"))
                .and_then(Value::as_object)
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            for name in unexpected {
                out.push(Problem::new(
                    format!("{at}/{name}"),
                    format!("unknown field (allowed here: {})", allowed.join(", ")),
                ));
            }
        }
        ValidationErrorKind::Type { .. } => {
            let wanted = match schema_at(&format!("{holder}/type")).and_then(Value::as_str) {
                Some("object") => "an object",
                Some("array") => "an array",
                Some("string") => "a string",
                Some("integer") => "an integer",
                Some("number") => "a number",
                Some("boolean") => "a boolean",
                _ => "another type",
            };
            out.push(Problem::new(
                at,
                format!("expected {wanted}, found {} ({expected})", cairn_primitives::json_kind(instance)),
            ));
        }
        ValidationErrorKind::Constant { expected_value } if expected_value.as_str() == Some(super::UNKNOWN) => {
            // The `then` branch of a section that is an object or array when stated: a string must be "unknown".
            out.push(Problem::new(
                at,
                format!("{} is neither \"unknown\" nor the section itself ({expected})", show(instance)),
            ));
        }
        ValidationErrorKind::Not { .. } => {
            out.push(Problem::new(at, format!("must be stated, \"unknown\" is not allowed here ({expected})")));
        }
        ValidationErrorKind::Pattern { .. } | ValidationErrorKind::Format { .. } => {
            out.push(Problem::new(at, format!("{} is not {expected}", show(instance))));
        }
        ValidationErrorKind::Enum { options } => {
            let options: Vec<String> = options.as_array().map(|a| a.iter().map(show).collect()).unwrap_or_default();
            out.push(Problem::new(
                at,
                format!("{} is not supported: expected one of {} ({expected})", show(instance), options.join(", ")),
            ));
        }
        ValidationErrorKind::MinItems { .. } | ValidationErrorKind::MinLength { .. } => {
            out.push(Problem::new(at, format!("empty ({expected})")));
        }
        ValidationErrorKind::UniqueItems => {
            out.push(Problem::new(at, format!("has duplicates ({expected})")));
        }
        _ => out.push(Problem::new(at, format!("{error} ({expected})"))),
    }
}
