//! The acceptance rule on the replayed fault case `acceptance-duplicate-field` (safetensors#401,
//! TOB-SFTN-7): a claimed output that the reference reader cannot open is not acceptable.

use std::path::PathBuf;

use cairn_primitives::Sha256Digest;
use cairn_protocol::{
    acceptance::{Rejection, check_claimed_output},
    output::Embeddings,
};

fn case(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/acceptance-duplicate-field").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn an_output_with_a_repeated_field_is_not_acceptable_and_says_why() {
    let honest = case("honest.safetensors");
    let claimed = case("claimed-duplicate-dtype.safetensors");
    // The verifier's own re-execution: the honest output's values.
    let reference = Embeddings::from_safetensors(&honest).unwrap();
    assert_eq!([reference.rows, reference.dim], [2, 384]);

    let report = check_claimed_output(&honest, Sha256Digest::of(&honest), &reference);
    assert!(report.acceptable(), "{report}");

    // The reference reader (the same core as Python's `safetensors`) refuses the claimed file.
    let refused = safetensors::SafeTensors::deserialize(&claimed).unwrap_err().to_string();
    assert!(refused.contains("duplicate field `dtype`"), "{refused}");

    let report = check_claimed_output(&claimed, Sha256Digest::of(&claimed), &reference);
    let Some(Rejection::Malformed(why)) = &report.rejection else {
        panic!("expected a malformed-output rejection, got: {report}");
    };
    assert!(why.contains("duplicate field `dtype`"), "{why}");
    let text = report.to_string();
    assert!(text.starts_with("not acceptable: not a canonical output: the safetensors reader refuses it"), "{text}");
    assert_eq!(text.matches("not a canonical output").count(), 1, "{text}");
}
