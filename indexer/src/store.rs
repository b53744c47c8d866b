//! The database: SQLite (a file, the embedded default) or PostgreSQL (by URL, for scale), one schema for both
//! through sqlx's `Any` driver and the migrations in `indexer/migrations/`. Queries are strings with bound
//! parameters (`$1`, `$2`, … on both backends), never formatted values.
//!
//! One process writes (the writer lock: a PostgreSQL advisory lock, or an exclusive lock on `<file>.lock`
//! beside a SQLite file); any number may read and serve the API.

use std::{fs::File, path::PathBuf, str::FromStr, time::Duration};

use sqlx::{
    AnyConnection, AnyPool, Connection, Row,
    any::{AnyConnectOptions, AnyPoolOptions},
};

use crate::error::{Error, Result, db};

/// The projection tables, all versioned alike (see the migration's comment): a reorg rolls each of them back
/// with the same two statements.
pub const PROJECTION_TABLES: &[&str] =
    &["models", "model_versions", "licenses", "operators", "jobs", "disputes", "balances", "params"];

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// A value bound into a query. NULLs carry their SQL type, which PostgreSQL needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Val {
    /// BIGINT.
    I(Option<i64>),
    /// TEXT.
    T(Option<String>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::I(Some(v))
    }
}
impl From<u64> for Val {
    fn from(v: u64) -> Self {
        Val::I(Some(i64::try_from(v).unwrap_or(i64::MAX)))
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::I(Some(i64::from(v)))
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::T(Some(v))
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::T(Some(v.to_string()))
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::T(v)
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        Val::I(v)
    }
}

/// Binds `vals` in order onto a query.
pub fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    vals: &'q [Val],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for v in vals {
        q = match v {
            Val::I(i) => q.bind(*i),
            Val::T(t) => q.bind(t.as_deref()),
        };
    }
    q
}

/// Rows per multi-row INSERT: below SQLite's 32,766 bound variables and PostgreSQL's 65,535.
const MAX_BIND: usize = 30_000;

/// Whether `conn` is a SQLite connection.
pub fn is_sqlite(conn: &AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("sqlite")
}

/// The `n`-th bind placeholder (1-based) of a statement on `conn`'s backend: `$n` on PostgreSQL, `?` on SQLite.
/// Numbered names make SQLite's parser and sqlx's binder look each name up in a list of all of them, which is
/// quadratic in a statement's parameters: with 30,000 of them it cost ~90% of a backfill (measured with
/// `perf`, `indexer/benches/indexer.rs`). Plain `?`s bind in order, so statements must bind in text order.
pub fn placeholder(sqlite: bool, n: usize) -> String {
    if sqlite { "?".to_string() } else { format!("${n}") }
}

/// `INSERT INTO table (columns) VALUES (…), (…)` for every row, in as few statements as the bind limits allow.
/// Every row has `columns.len()` values.
pub async fn insert_rows(conn: &mut AnyConnection, table: &str, columns: &[&str], rows: &[Vec<Val>]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sqlite = is_sqlite(conn);
    let per_stmt = (MAX_BIND / columns.len()).max(1);
    for chunk in rows.chunks(per_stmt) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                sql.push_str(&placeholder(sqlite, n));
            }
            sql.push(')');
        }
        // Bound by reference, row by row: copying every value first was a visible share of a backfill's
        // allocations.
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = bind_all(query, row);
        }
        query.execute(&mut *conn).await.map_err(db("insert"))?;
    }
    Ok(())
}

/// The last block whose logs are all stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Block number.
    pub number: u64,
    /// Block hash (0x-hex).
    pub hash: String,
}

/// A stored block header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRow {
    /// Number.
    pub number: u64,
    /// Hash (0x-hex).
    pub hash: String,
    /// Parent hash (0x-hex).
    pub parent_hash: String,
    /// Timestamp, seconds since the Unix epoch.
    pub timestamp: u64,
}

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
}

/// Holding this makes the process the writer; dropping it lets another take over.
#[derive(Debug)]
pub enum WriterLock {
    /// `flock` on `<file>.lock`.
    File(File),
    /// A dedicated connection holding `pg_advisory_lock`.
    Postgres(AnyConnection),
    /// An in-memory SQLite database: only this process can see it.
    Memory,
}

/// The advisory-lock key of the writer ("cairn-ix" in ASCII).
const PG_LOCK_KEY: i64 = 0x6361_6972_6e2d_6978;

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// Opens (creating a SQLite file when missing) and migrates the database at `url` (`sqlite://PATH`,
    /// `sqlite::memory:` for tests, or `postgres://…`).
    ///
    /// SQLite runs in WAL mode with `synchronous=NORMAL`: a committed transaction survives a killed process
    /// (`kill -9`), and readers never block the writer.
    pub async fn open(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let (backend, connect_url) = if let Some(rest) = url.strip_prefix("sqlite://") {
            if let Some(parent) = PathBuf::from(rest.split('?').next().unwrap_or(rest)).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|e| Error::Database {
                    what: "create the database directory",
                    source: sqlx::Error::Io(e),
                })?;
            }
            let sep = if rest.contains('?') { '&' } else { '?' };
            (Backend::Sqlite, if rest.contains("mode=") { url.to_string() } else { format!("{url}{sep}mode=rwc") })
        } else if url.starts_with("sqlite:") {
            (Backend::Sqlite, url.to_string())
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(Error::DatabaseUrl(url.to_string()));
        };
        let options = AnyConnectOptions::from_str(&connect_url).map_err(|_| Error::DatabaseUrl(url.to_string()))?;
        let mut pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = NORMAL",
                        "PRAGMA busy_timeout = 5000",
                        "PRAGMA foreign_keys = ON",
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            });
        }
        if backend == Backend::Sqlite {
            // One connection first, so a file that is not a database (or cannot be opened) says so at once: the
            // pool would retry the failing set-up until its acquire timeout and report only "timed out".
            let mut probe = AnyConnection::connect_with(&options).await.map_err(db("open the SQLite file"))?;
            sqlx::query("PRAGMA journal_mode = WAL").execute(&mut probe).await.map_err(db("open the SQLite file"))?;
            probe.close().await.map_err(db("open the SQLite file"))?;
        }
        let pool = pool.connect_with(options).await.map_err(db("connect"))?;
        let store = Self { pool, backend, url: redact(url) };
        sqlx::migrate!("./migrations").run(&store.pool).await?;
        Ok(store)
    }

    /// The pool (the API reads through it).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL without its password.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Tries to become the one writer; `Ok(None)` when another process is.
    pub async fn try_writer_lock(&self, sqlite_path: Option<&std::path::Path>) -> Result<Option<WriterLock>> {
        match self.backend {
            Backend::Sqlite => {
                let Some(path) = sqlite_path else { return Ok(Some(WriterLock::Memory)) };
                let mut lock_path = path.as_os_str().to_owned();
                lock_path.push(".lock");
                let file =
                    File::options().create(true).truncate(false).write(true).open(&lock_path).map_err(|e| {
                        Error::Database { what: "open the writer lock file", source: sqlx::Error::Io(e) }
                    })?;
                match file.try_lock() {
                    Ok(()) => Ok(Some(WriterLock::File(file))),
                    Err(std::fs::TryLockError::WouldBlock) => Ok(None),
                    Err(std::fs::TryLockError::Error(e)) => {
                        Err(Error::Database { what: "take the writer lock", source: sqlx::Error::Io(e) })
                    }
                }
            }
            Backend::Postgres => {
                let mut conn = self.pool.acquire().await.map_err(db("connect for the writer lock"))?.detach();
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(PG_LOCK_KEY)
                    .fetch_one(&mut conn)
                    .await
                    .map_err(db("take the writer lock"))?;
                Ok(got.then_some(WriterLock::Postgres(conn)))
            }
        }
    }

    /// A `meta` value.
    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("read meta"))
    }

    /// Sets a `meta` value inside a transaction.
    pub async fn set_meta(conn: &mut AnyConnection, key: &str, value: &str) -> Result<()> {
        sqlx::query("DELETE FROM meta WHERE key = $1").bind(key).execute(&mut *conn).await.map_err(db("write meta"))?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
            .bind(key)
            .bind(value)
            .execute(&mut *conn)
            .await
            .map_err(db("write meta"))?;
        Ok(())
    }

    /// The checkpoint, if any block was indexed.
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        let row = sqlx::query("SELECT block_number, block_hash FROM checkpoint WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db("read the checkpoint"))?;
        Ok(row.map(|r| Checkpoint { number: r.get::<i64, _>(0).max(0) as u64, hash: r.get::<String, _>(1) }))
    }

    /// Moves the checkpoint, inside the transaction that stored what it covers.
    pub async fn set_checkpoint(conn: &mut AnyConnection, cp: &Checkpoint, now: u64) -> Result<()> {
        sqlx::query("DELETE FROM checkpoint WHERE id = 1").execute(&mut *conn).await.map_err(db("write checkpoint"))?;
        sqlx::query("INSERT INTO checkpoint (id, block_number, block_hash, updated_at) VALUES (1, $1, $2, $3)")
            .bind(i64_of(cp.number))
            .bind(cp.hash.as_str())
            .bind(i64_of(now))
            .execute(&mut *conn)
            .await
            .map_err(db("write checkpoint"))?;
        Ok(())
    }

    /// The stored headers from `from` down to `to` (inclusive), highest first.
    pub async fn blocks_desc(&self, from: u64, to: u64) -> Result<Vec<BlockRow>> {
        let rows = sqlx::query(
            "SELECT number, hash, parent_hash, timestamp FROM blocks WHERE number <= $1 AND number >= $2 \
             ORDER BY number DESC",
        )
        .bind(i64_of(from))
        .bind(i64_of(to))
        .fetch_all(&self.pool)
        .await
        .map_err(db("read blocks"))?;
        Ok(rows.iter().map(block_row).collect())
    }

    /// Stores headers (replacing any at the same numbers).
    pub async fn put_blocks(conn: &mut AnyConnection, blocks: &[BlockRow]) -> Result<()> {
        if blocks.is_empty() {
            return Ok(());
        }
        // Numbers in [lo, hi] that we are about to write: remove older copies first (a re-ingest after a
        // rollback writes the same numbers again).
        let numbers: Vec<Val> = blocks.iter().map(|b| Val::from(b.number)).collect();
        let sqlite = is_sqlite(conn);
        for chunk in numbers.chunks(MAX_BIND) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| placeholder(sqlite, i)).collect();
            let sql = format!("DELETE FROM blocks WHERE number IN ({})", placeholders.join(", "));
            bind_all(sqlx::query(&sql), chunk).execute(&mut *conn).await.map_err(db("replace blocks"))?;
        }
        let rows: Vec<Vec<Val>> = blocks
            .iter()
            .map(|b| vec![b.number.into(), b.hash.clone().into(), b.parent_hash.clone().into(), b.timestamp.into()])
            .collect();
        insert_rows(conn, "blocks", &["number", "hash", "parent_hash", "timestamp"], &rows).await
    }

    /// Forgets the headers of the recent window below `below` that hold no Cairn log (their only use was the
    /// parent-hash chain).
    pub async fn prune_blocks(conn: &mut AnyConnection, below: u64) -> Result<()> {
        sqlx::query(
            "DELETE FROM blocks WHERE number < $1 AND NOT EXISTS \
             (SELECT 1 FROM events WHERE events.block_number = blocks.number)",
        )
        .bind(i64_of(below))
        .execute(&mut *conn)
        .await
        .map_err(db("prune blocks"))?;
        Ok(())
    }

    /// Undoes everything above block `fork` (a reorg): raw events, accounts, headers and every projection
    /// table, which then holds exactly what it held when `fork` was the last indexed block.
    pub async fn rollback(conn: &mut AnyConnection, fork: u64) -> Result<()> {
        let f = i64_of(fork);
        for table in ["events", "event_accounts", "blocks"] {
            let col = if table == "blocks" { "number" } else { "block_number" };
            sqlx::query(&format!("DELETE FROM {table} WHERE {col} > $1"))
                .bind(f)
                .execute(&mut *conn)
                .await
                .map_err(db("roll back"))?;
        }
        for table in PROJECTION_TABLES {
            sqlx::query(&format!("DELETE FROM {table} WHERE block_number > $1"))
                .bind(f)
                .execute(&mut *conn)
                .await
                .map_err(db("roll back"))?;
            sqlx::query(&format!("UPDATE {table} SET superseded_block = NULL WHERE superseded_block > $1"))
                .bind(f)
                .execute(&mut *conn)
                .await
                .map_err(db("roll back"))?;
        }
        Ok(())
    }

    /// Empties every projection table (before a re-index from the raw events).
    pub async fn clear_projections(conn: &mut AnyConnection) -> Result<()> {
        for table in PROJECTION_TABLES.iter().chain(&["event_accounts"]) {
            sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *conn).await.map_err(db("clear projections"))?;
        }
        Ok(())
    }

    /// Drops every row (`cairn-indexer reset`).
    pub async fn reset(&self) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db("begin"))?;
        Self::clear_projections(&mut tx).await?;
        for table in ["events", "blocks", "checkpoint", "meta"] {
            sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await.map_err(db("reset"))?;
        }
        tx.commit().await.map_err(db("commit"))
    }
}

fn block_row(r: &sqlx::any::AnyRow) -> BlockRow {
    BlockRow {
        number: r.get::<i64, _>(0).max(0) as u64,
        hash: r.get(1),
        parent_hash: r.get(2),
        timestamp: r.get::<i64, _>(3).max(0) as u64,
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((auth, host)) = rest.split_once('@') else { return url.to_string() };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:pw@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }

    #[tokio::test]
    async fn refuses_unknown_urls() {
        let err = Store::open("mysql://x").await.unwrap_err();
        assert!(err.to_string().contains("expected sqlite://PATH"), "{err}");
    }
}
