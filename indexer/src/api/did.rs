//! `/did/{did}`: the W3C DID document of a seller's or operator's `did:pkh` (the did:pkh method,
//! <https://github.com/w3c-ccg/did-pkh/blob/main/did-pkh-method-draft.md>): one
//! `EcdsaSecp256k1RecoveryMethod2020` verification method for the account (`#blockchainAccountId`, used for
//! authentication and assertions), for an operator also its hot signer key (`#signer`, an assertion
//! method: it signs job receipts and votes for the operator), and services from the chain: the operator's
//! runner endpoint from its on-chain profile (`CairnRunner`), and links to its record on this indexer
//! (`CairnOperator`, `CairnModels` for a seller's models).

use std::collections::HashMap;

use alloy::primitives::Address;
use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row as _;
use utoipa::ToSchema;

use super::{
    Api,
    common::{Params, address},
    error::{ApiError, ApiResult, ErrorBody},
};
use crate::entity::Operator;

/// The DID of `address` on chain `chain_id`: `did:pkh:eip155:<chainId>:<EIP-55 checksummed address>`.
pub fn did_of(chain_id: u64, address: &str) -> String {
    format!("did:pkh:eip155:{chain_id}:{}", checksummed(address))
}

/// `address` in EIP-55 mixed case (as given when it is not an address).
fn checksummed(address: &str) -> String {
    address.parse::<Address>().map_or_else(|_| address.to_string(), |a| a.to_checksum(None))
}

/// A DID document (JSON-LD, `application/did+ld+json`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DidDocument {
    /// JSON-LD contexts: DID v1 and the terms of the did:pkh method.
    #[serde(rename = "@context")]
    #[schema(value_type = Vec<Object>)]
    pub context: Vec<Value>,
    /// The DID.
    pub id: String,
    /// Verification methods: the account, and an operator's signer key.
    pub verification_method: Vec<VerificationMethod>,
    /// Methods that authenticate as the DID's subject.
    pub authentication: Vec<String>,
    /// Methods whose signatures are the subject's assertions.
    pub assertion_method: Vec<String>,
    /// Service endpoints.
    pub service: Vec<Service>,
}

/// An `EcdsaSecp256k1RecoveryMethod2020` verification method.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMethod {
    /// `<did>#blockchainAccountId` or `<did>#signer`.
    pub id: String,
    /// `EcdsaSecp256k1RecoveryMethod2020`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The DID.
    pub controller: String,
    /// CAIP-10 account id: `eip155:<chainId>:<checksummed address>`.
    pub blockchain_account_id: String,
}

/// A service endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// `<did>#runner`, `<did>#operator` or `<did>#models`.
    pub id: String,
    /// `CairnRunner` (the operator's endpoint from its on-chain profile), `CairnOperator` or `CairnModels`
    /// (links to this indexer).
    #[serde(rename = "type")]
    pub kind: String,
    /// The URL.
    pub service_endpoint: String,
}

const DID_FORMAT: &str = "did:pkh:eip155:<chainId>:<0x address>";

/// Parses a did:pkh of chain `chain_id` into its lowercase address.
pub fn parse_did(did: &str, chain_id: u64) -> ApiResult<String> {
    let malformed = |why: &str| ApiError::bad("did", format!("`{did}` {why}"), &[DID_FORMAT]);
    let parts: Vec<&str> = did.split(':').collect();
    let [scheme, method, namespace, chain, account] = parts[..] else {
        return Err(malformed("is not a did:pkh of an EVM account"));
    };
    if (scheme, method, namespace) != ("did", "pkh", "eip155") {
        return Err(malformed("is not a did:pkh of an EVM account (did:pkh:eip155:…)"));
    }
    let chain: u64 = chain.parse().map_err(|_| malformed("has no numeric chain id"))?;
    if chain != chain_id {
        let allowed = format!("did:pkh:eip155:{chain_id}:<0x address>");
        return Err(ApiError::bad(
            "did",
            format!("`{did}` is on chain {chain}; this indexer follows chain {chain_id}"),
            &[allowed.as_str()],
        ));
    }
    let lower = address("did", account).map_err(|_| malformed("does not end in an address"))?;
    let has_upper = account[2..].bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = account[2..].bytes().any(|b| b.is_ascii_lowercase());
    if has_upper && has_lower && Address::parse_checksummed(account, None).is_err() {
        return Err(malformed("has a mixed-case address whose EIP-55 checksum is wrong"));
    }
    Ok(lower)
}

/// `/did/{did}`: the DID document of a seller or operator of this chain.
#[utoipa::path(get, path = "/did/{did}", tag = "accounts",
    params(("did" = String, Path, description = "did:pkh:eip155:<chainId>:<address>")),
    responses((status = 200, body = DidDocument, content_type = "application/did+ld+json"),
              (status = 400, body = ErrorBody, description = "Malformed, or of another chain"),
              (status = 404, body = ErrorBody, description = "Neither a seller nor an operator")))]
pub async fn document(
    State(api): State<Api>,
    Path(did): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    Params::new(q, &[], false)?;
    let chain_id = api.app.chain_id;
    let addr = parse_did(&did, chain_id)?;
    let view = api.view().await?;
    let operator = api.current::<Operator>("operators", &addr).await?.map(|(o, _)| o);
    let seller = api
        .q(sqlx::query("SELECT 1 FROM models WHERE seller = $1 AND superseded_block IS NULL LIMIT 1")
            .bind(&addr)
            .fetch_optional(api.app.store.pool()))
        .await?
        .map(|r| r.get::<i64, _>(0))
        .is_some();
    if operator.is_none() && !seller {
        return Err(ApiError::NotFound(format!(
            "{addr} is neither a seller nor an operator on chain {chain_id} (indexed up to block {})",
            view.indexed
        )));
    }
    let id = did_of(chain_id, &addr);
    let account = format!("{id}#blockchainAccountId");
    let method = |vid: String, a: &str| VerificationMethod {
        id: vid,
        kind: "EcdsaSecp256k1RecoveryMethod2020".into(),
        controller: id.clone(),
        blockchain_account_id: format!("eip155:{chain_id}:{}", checksummed(a)),
    };
    let mut verification_method = vec![method(account.clone(), &addr)];
    let mut assertion_method = vec![account.clone()];
    let base = base_url(&api, &headers);
    let mut service = Vec::new();
    if let Some(op) = &operator {
        if !op.signer.is_empty() && op.signer != addr {
            let signer = format!("{id}#signer");
            verification_method.push(method(signer.clone(), &op.signer));
            assertion_method.push(signer);
        }
        if !op.endpoint.is_empty() {
            service.push(Service {
                id: format!("{id}#runner"),
                kind: "CairnRunner".into(),
                service_endpoint: op.endpoint.clone(),
            });
        }
        service.push(Service {
            id: format!("{id}#operator"),
            kind: "CairnOperator".into(),
            service_endpoint: format!("{base}/operators/{addr}"),
        });
    }
    if seller {
        service.push(Service {
            id: format!("{id}#models"),
            kind: "CairnModels".into(),
            service_endpoint: format!("{base}/models?seller={addr}"),
        });
    }
    let doc = DidDocument {
        context: vec![
            json!("https://www.w3.org/ns/did/v1"),
            json!({
                "blockchainAccountId": "https://w3id.org/security#blockchainAccountId",
                "EcdsaSecp256k1RecoveryMethod2020":
                    "https://identity.foundation/EcdsaSecp256k1RecoverySignature2020#EcdsaSecp256k1RecoveryMethod2020",
            }),
        ],
        id,
        verification_method,
        authentication: vec![account],
        assertion_method,
        service,
    };
    let body = serde_json::to_vec(&doc).map_err(|e| ApiError::Internal(format!("DID document: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/did+ld+json")], body).into_response())
}

/// The API's base URL: `public_url`, else `http://<Host>`, else empty (relative links).
fn base_url(api: &Api, headers: &HeaderMap) -> String {
    if let Some(url) = &api.app.options.public_url {
        return url.trim_end_matches('/').to_string();
    }
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)))
        .map_or_else(String::new, |h| format!("http://{h}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_this_chains_pkh() {
        let a = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        assert_eq!(parse_did(&format!("did:pkh:eip155:1:{a}"), 1).unwrap(), a.to_lowercase());
        assert_eq!(parse_did(&format!("did:pkh:eip155:1:{}", a.to_lowercase()), 1).unwrap(), a.to_lowercase());
        let wrong_checksum = a.replace("aA", "Aa");
        for bad in [
            format!("did:pkh:eip155:2:{a}"),
            format!("did:pkh:solana:1:{a}"),
            "did:pkh:eip155:1:0x12".to_string(),
            format!("did:pkh:eip155:1:{wrong_checksum}"),
            "nonsense".to_string(),
        ] {
            let err = parse_did(&bad, 1).unwrap_err();
            assert!(matches!(&err, ApiError::BadParameter { parameter, .. } if parameter == "did"), "{bad}: {err}");
        }
        assert_eq!(did_of(1, &a.to_lowercase()), format!("did:pkh:eip155:1:{a}"));
    }
}
