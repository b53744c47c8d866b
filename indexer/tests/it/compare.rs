//! Comparing databases: every row of every projection table as text.

use sqlx::{AnyPool, Column, Row, ValueRef};

/// The projection tables (migrations/0001_init.sql).
pub(crate) const PROJECTION_TABLES: &[&str] =
    &["models", "model_versions", "licenses", "operators", "jobs", "disputes", "balances", "params"];

/// Every row of every projection table (current and superseded), one line per row:
/// `table|col=value|col=value|...` with every column in the table's order (NULL as `NULL`), sorted. Two
/// databases hold the same projections exactly when their dumps are equal.
pub(crate) async fn projection_dump(pool: &AnyPool) -> Vec<String> {
    let mut lines = Vec::new();
    for table in PROJECTION_TABLES {
        // Table names come from the constant list above, never from input.
        let rows = sqlx::query(&format!("SELECT * FROM {table}")).fetch_all(pool).await.unwrap();
        for row in &rows {
            let mut line = (*table).to_string();
            for (i, column) in row.columns().iter().enumerate() {
                let value = if row.try_get_raw(i).unwrap().is_null() {
                    "NULL".to_string()
                } else if let Ok(v) = row.try_get::<i64, _>(i) {
                    v.to_string()
                } else {
                    row.try_get::<String, _>(i).unwrap()
                };
                line.push_str(&format!("|{}={value}", column.name()));
            }
            lines.push(line);
        }
    }
    lines.sort();
    lines
}
