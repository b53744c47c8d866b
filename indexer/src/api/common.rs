//! What every endpoint shares: the chain view (indexed block, head, finalized block), row metadata
//! (confirmations, finality), query-parameter parsing with named 400s, cursor pagination over the versioned
//! projection tables, entity history, and CSV export.

use std::collections::{BTreeMap, HashMap};

use axum::{
    Json,
    http::header,
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use sqlx::Row as _;
use utoipa::{IntoParams, ToSchema};

use super::{
    Api,
    error::{ApiError, ApiResult},
};
use crate::store::{Val, bind_all};

/// Default page size of lists.
pub const DEFAULT_LIMIT: usize = 50;
/// Largest page size of lists.
pub const MAX_LIMIT: usize = 500;

/// Where the index stands, as one request sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainView {
    /// The last block whose logs are all stored (the database checkpoint; −1 before the first).
    pub indexed: i64,
    /// The chain head (the follower's, the node's, or the indexed block when neither is known).
    pub head: i64,
    /// The finalized block: the node's `finalized` tag where the follower saw one, else head − finality depth.
    pub finalized: i64,
    /// The newest stored block's timestamp, seconds since the epoch (chain time, for the reputation's age).
    pub now: u64,
}

impl ChainView {
    /// Row metadata of a row made at `block`.
    pub fn meta(&self, block: i64) -> RowMeta {
        RowMeta { block_number: block, confirmations: (self.head - block + 1).max(0), r#final: block <= self.finalized }
    }

    /// The response metadata.
    pub fn indexed(&self) -> Indexed {
        Indexed { indexed_block: self.indexed, head: self.head, finalized_block: self.finalized }
    }
}

/// Up to which block the answer is indexed (in every JSON body; also the `X-Indexed-Block` header).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Indexed {
    /// The last block whose logs are all stored: a transaction mined at or below it is in this answer.
    pub indexed_block: i64,
    /// The chain head, block number.
    pub head: i64,
    /// The finalized block; rows at or below it are `final`.
    pub finalized_block: i64,
}

/// Where a row comes from and how settled it is.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RowMeta {
    /// The block of the event that made this version of the row.
    pub block_number: i64,
    /// head − blockNumber + 1.
    pub confirmations: i64,
    /// Whether blockNumber is at or below the finalized block (a reorg can no longer undo it).
    pub r#final: bool,
}

/// A projection row with its metadata.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Row<T> {
    /// The entity.
    #[serde(flatten)]
    pub item: T,
    /// Its metadata.
    #[serde(flatten)]
    pub meta: RowMeta,
}

/// A page of a list: `items` in creation order (newest first with `order=desc`), `nextCursor` to pass as `cursor` for the next page (absent on
/// the last), and the chain view.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// The cursor of the next page; absent when this is the last.
    pub next_cursor: Option<String>,
    /// Chain view.
    #[serde(flatten)]
    pub indexed: Indexed,
}

/// Parameters of every list.
#[derive(Debug, Clone, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Opaque cursor from a previous page's `nextCursor`.
    pub cursor: Option<String>,
    /// Rows per page, 1–500 (default 50).
    pub limit: Option<usize>,
    /// `json` (default) or `csv` (one row per item, nested fields flattened with dots).
    pub format: Option<String>,
    /// `asc` (default: oldest first, in chain order) or `desc` (newest first); a cursor continues in the same
    /// order. Not taken by `/accounts/{addr}/trail`, which is in chain order.
    pub order: Option<String>,
}

/// Where a page starts and which way the list runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seek {
    /// Continue after this position (a previous page's `nextCursor`).
    pub after: Option<Cursor>,
    /// Newest first (`order=desc`).
    pub newest_first: bool,
}

/// Answer format of lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON [`Page`].
    Json,
    /// CSV (`text/csv`).
    Csv,
}

/// Query parameters, checked by name: unknown names and malformed values are 400s that say what is allowed.
#[derive(Debug, Clone)]
pub struct Params {
    map: HashMap<String, String>,
}

/// A position in a list: (created block, created log index).
pub type Cursor = (i64, i64);

impl Params {
    /// Checks that every parameter given is one of `known` (plus the list parameters when `list`).
    pub fn new(map: HashMap<String, String>, known: &[&str], list: bool) -> ApiResult<Self> {
        let mut allowed: Vec<&str> = known.to_vec();
        if list {
            allowed.extend(["cursor", "limit", "format", "order"]);
        }
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiError::bad(unknown, "unknown parameter", &allowed));
        }
        Ok(Self { map })
    }

    /// The raw value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// `limit`: 1–500, default 50.
    pub fn limit(&self) -> ApiResult<usize> {
        match self.get("limit") {
            None => Ok(DEFAULT_LIMIT),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
                _ => Err(ApiError::bad(
                    "limit",
                    format!("`{v}` is not a whole number from 1 to {MAX_LIMIT}"),
                    &["1..500"],
                )),
            },
        }
    }

    /// `cursor` and `order` together: where the page starts and which way it runs.
    pub fn seek(&self) -> ApiResult<Seek> {
        let newest_first = match self.get("order") {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(v) => return Err(ApiError::bad("order", format!("`{v}` is not an order"), &["asc", "desc"])),
        };
        Ok(Seek { after: self.cursor()?, newest_first })
    }

    /// `cursor`: as given in `nextCursor`.
    pub fn cursor(&self) -> ApiResult<Option<Cursor>> {
        let Some(v) = self.get("cursor") else { return Ok(None) };
        let parsed = v.split_once('-').and_then(|(b, l)| Some((b.parse::<i64>().ok()?, l.parse::<i64>().ok()?)));
        match parsed {
            Some((b, l)) if b >= 0 && l >= 0 => Ok(Some((b, l))),
            _ => Err(ApiError::bad("cursor", format!("`{v}` is not a cursor"), &["a previous page's nextCursor"])),
        }
    }

    /// `format`: json or csv.
    pub fn format(&self) -> ApiResult<Format> {
        match self.get("format") {
            None | Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some(v) => Err(ApiError::bad("format", format!("`{v}` is not a format"), &["json", "csv"])),
        }
    }

    /// An address parameter, lowercased.
    pub fn address(&self, name: &str) -> ApiResult<Option<String>> {
        self.get(name).map(|v| address(name, v)).transpose()
    }

    /// A uint256 parameter (decimal), normalised.
    pub fn uint(&self, name: &str) -> ApiResult<Option<String>> {
        self.get(name).map(|v| uint(name, v)).transpose()
    }

    /// A u64 parameter.
    pub fn u64(&self, name: &str, what: &str) -> ApiResult<Option<u64>> {
        self.get(name)
            .map(|v| v.parse::<u64>().map_err(|_| ApiError::bad(name, format!("`{v}` is not {what}"), &[what])))
            .transpose()
    }

    /// A parameter that must be one of `values`.
    pub fn one_of(&self, name: &str, values: &[&str]) -> ApiResult<Option<String>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if values.contains(&v) => Ok(Some(v.to_string())),
            Some(v) => Err(ApiError::bad(name, format!("`{v}` is not one of the allowed values"), values)),
        }
    }

    /// A boolean parameter.
    pub fn bool(&self, name: &str) -> ApiResult<Option<bool>> {
        self.one_of(name, &["true", "false"]).map(|v| v.map(|v| v == "true"))
    }
}

/// An address (0x and 40 hex digits, any case), lowercased; a 400 naming `name` otherwise.
pub fn address(name: &str, v: &str) -> ApiResult<String> {
    let ok = v.len() == 42 && v.starts_with("0x") && v[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(v.to_ascii_lowercase())
    } else {
        Err(ApiError::bad(name, format!("`{v}` is not an address"), &["0x followed by 40 hex digits"]))
    }
}

/// A decimal uint256, normalised (no leading zeros); a 400 naming `name` otherwise.
pub fn uint(name: &str, v: &str) -> ApiResult<String> {
    if !v.is_empty()
        && v.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = v.parse::<alloy::primitives::U256>()
    {
        return Ok(n.to_string());
    }
    Err(ApiError::bad(name, format!("`{v}` is not a decimal id"), &["a decimal integer (uint256)"]))
}

impl Api {
    /// Runs a database future under the query timeout.
    pub async fn q<T, E: Into<ApiError>>(&self, fut: impl Future<Output = Result<T, E>>) -> ApiResult<T> {
        match tokio::time::timeout(self.app.options.query_timeout, fut).await {
            Ok(r) => r.map_err(Into::into),
            Err(_) => Err(ApiError::Timeout(self.app.options.query_timeout.as_millis())),
        }
    }

    /// One page of current rows of `table` (in creation order, or newest first, after `seek`'s cursor), with
    /// `filters`:
    /// `(column_sql, value)` pairs where `column_sql` is a fixed SQL fragment ending in a comparison operator
    /// (e.g. `"buyer ="`), never user text. Returns the decoded entities with the block of their row, and the
    /// next cursor.
    pub async fn page<E: DeserializeOwned>(
        &self,
        table: &'static str,
        filters: &[(&'static str, Val)],
        seek: Seek,
        limit: usize,
    ) -> ApiResult<(Vec<(E, i64)>, Option<String>)> {
        let mut sql = format!(
            "SELECT created_block, created_log, block_number, data FROM {table} WHERE superseded_block IS NULL"
        );
        let mut vals = Vec::new();
        for (fragment, v) in filters {
            vals.push(v.clone());
            sql.push_str(&format!(" AND {fragment} ${}", vals.len()));
        }
        let (cmp, dir) = if seek.newest_first { ("<", "DESC") } else { (">", "ASC") };
        if let Some((b, l)) = seek.after {
            vals.push(b.into());
            vals.push(l.into());
            let (pb, pl) = (vals.len() - 1, vals.len());
            sql.push_str(&format!(
                " AND (created_block {cmp} ${pb} OR (created_block = ${pb} AND created_log {cmp} ${pl}))"
            ));
        }
        vals.push(Val::from((limit + 1) as i64));
        sql.push_str(&format!(" ORDER BY created_block {dir}, created_log {dir} LIMIT ${}", vals.len()));
        let rows = self.q(bind_all(sqlx::query(&sql), &vals).fetch_all(self.app.store.pool())).await?;
        let mut out = Vec::with_capacity(rows.len().min(limit));
        let mut next = None;
        for (i, r) in rows.iter().enumerate() {
            if i == limit {
                let prev = &rows[i - 1];
                next = Some(format!("{}-{}", prev.get::<i64, _>(0), prev.get::<i64, _>(1)));
                break;
            }
            out.push((decode::<E>(table, &r.get::<String, _>(3))?, r.get::<i64, _>(2)));
        }
        Ok((out, next))
    }

    /// The current row of `id` in `table` and its block, if any.
    pub async fn current<E: DeserializeOwned>(&self, table: &'static str, id: &str) -> ApiResult<Option<(E, i64)>> {
        let sql = format!("SELECT data, block_number FROM {table} WHERE id = $1 AND superseded_block IS NULL");
        let row = self.q(sqlx::query(&sql).bind(id).fetch_optional(self.app.store.pool())).await?;
        row.map(|r| Ok((decode::<E>(table, &r.get::<String, _>(0))?, r.get::<i64, _>(1)))).transpose()
    }

    /// The transaction hash and block time of the stored events at `keys` ((block, log index) pairs).
    pub async fn events_at(
        &self,
        keys: impl IntoIterator<Item = (i64, i64)>,
    ) -> ApiResult<HashMap<(i64, i64), (String, Option<u64>)>> {
        let keys: Vec<(i64, i64)> = keys.into_iter().collect();
        let mut out = HashMap::new();
        for chunk in keys.chunks(100) {
            let wanted: Vec<String> = (0..chunk.len())
                .map(|i| format!("(e.block_number = ${} AND e.log_index = ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!(
                "SELECT e.block_number, e.log_index, e.tx_hash, b.timestamp FROM events e \
                 LEFT JOIN blocks b ON b.number = e.block_number WHERE {}",
                wanted.join(" OR ")
            );
            let mut q = sqlx::query(&sql);
            for (b, l) in chunk {
                q = q.bind(*b).bind(*l);
            }
            for r in self.q(q.fetch_all(self.app.store.pool())).await? {
                out.insert((r.get(0), r.get(1)), (r.get(2), r.get::<Option<i64>, _>(3).map(|t| t.max(0) as u64)));
            }
        }
        Ok(out)
    }

    /// Every version of `id` in `table`, oldest first, with the event that made it.
    pub async fn history<E: DeserializeOwned>(&self, table: &'static str, id: &str) -> ApiResult<Vec<(Made, E)>> {
        let sql = format!(
            "SELECT t.block_number, t.log_index, t.data, e.tx_hash, e.event, b.timestamp FROM {table} t \
             LEFT JOIN events e ON e.block_number = t.block_number AND e.log_index = t.log_index \
             LEFT JOIN blocks b ON b.number = t.block_number WHERE t.id = $1 ORDER BY t.block_number, t.log_index"
        );
        let rows = self.q(sqlx::query(&sql).bind(id).fetch_all(self.app.store.pool())).await?;
        rows.iter()
            .map(|r| {
                let made = Made {
                    block_number: r.get(0),
                    log_index: r.get(1),
                    tx_hash: r.get::<Option<String>, _>(3).unwrap_or_default(),
                    event: r.get::<Option<String>, _>(4).unwrap_or_default(),
                    timestamp: r.get::<Option<i64>, _>(5).map(|t| t.max(0) as u64),
                };
                Ok((made, decode::<E>(table, &r.get::<String, _>(2))?))
            })
            .collect()
    }
}

/// The event that made a version of a row.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Made {
    /// Block number.
    pub block_number: i64,
    /// Log index in the block.
    pub log_index: i64,
    /// Transaction hash.
    pub tx_hash: String,
    /// Event name, e.g. `JobClaimed`.
    pub event: String,
    /// Block timestamp, seconds since the epoch.
    pub timestamp: Option<u64>,
}

/// A stored entity's JSON.
pub fn decode<E: DeserializeOwned>(table: &str, data: &str) -> ApiResult<E> {
    serde_json::from_str(data).map_err(|e| ApiError::Internal(format!("stored {table} row is corrupt: {e}")))
}

/// A list answer: the JSON page, or CSV of its items.
pub fn list_response<T: Serialize + ToSchema>(page: Page<T>, format: Format) -> ApiResult<Response> {
    match format {
        Format::Json => Ok(Json(page).into_response()),
        Format::Csv => {
            let body = to_csv(&page.items)?;
            let mut r = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
            if let Some(next) = page.next_cursor.and_then(|c| header::HeaderValue::from_str(&c).ok()) {
                r.headers_mut().insert("x-next-cursor", next);
            }
            Ok(r)
        }
    }
}

/// CSV of `items`: one column per leaf field (nested objects flattened as `outer.inner`, arrays as JSON text),
/// columns in order of first appearance.
pub fn to_csv<T: Serialize>(items: &[T]) -> ApiResult<String> {
    let mut columns: Vec<String> = Vec::new();
    let mut rows: Vec<BTreeMap<String, String>> = Vec::with_capacity(items.len());
    for item in items {
        let value = serde_json::to_value(item).map_err(|e| ApiError::Internal(format!("CSV: {e}")))?;
        let mut flat = BTreeMap::new();
        flatten("", &value, &mut flat, &mut columns);
        rows.push(flat);
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| ApiError::Internal(format!("CSV: {e}"));
    w.write_record(&columns).map_err(csv_err)?;
    for row in &rows {
        w.write_record(columns.iter().map(|c| row.get(c).map_or("", String::as_str))).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|e| ApiError::Internal(format!("CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Internal(format!("CSV: {e}")))
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>, columns: &mut Vec<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&key, x, out, columns);
            }
        }
        _ => {
            let text = match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                other => other.to_string(),
            };
            if !columns.iter().any(|c| c == prefix) {
                columns.push(prefix.to_string());
            }
            out.insert(prefix.to_string(), text);
        }
    }
}

/// One version of an entity: the event that made it and the entity after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Version<T> {
    /// The event.
    #[serde(flatten)]
    pub made: Made,
    /// head − blockNumber + 1.
    pub confirmations: i64,
    /// At or below the finalized block.
    pub r#final: bool,
    /// The entity after the event.
    pub value: T,
}

impl Api {
    /// [`Api::history`] with each version's confirmations and finality.
    pub async fn versions<E: DeserializeOwned>(
        &self,
        view: &ChainView,
        table: &'static str,
        id: &str,
    ) -> ApiResult<Vec<Version<E>>> {
        Ok(self
            .history::<E>(table, id)
            .await?
            .into_iter()
            .map(|(made, value)| {
                let meta = view.meta(made.block_number);
                Version { made, confirmations: meta.confirmations, r#final: meta.r#final, value }
            })
            .collect())
    }
}
