//! `ghost.library.v1` → `library_entries`: upserts and deletions of entries.

use crate::sink::{Rows, headers_json, project};
use async_trait::async_trait;
use ghost_schema::{LibraryEntryRecord, LibraryOp};
use ghost_store::Pool;
use ghost_topics::{self as topics, Topic};
use ghost_worker::{Handled, Input, Transient, Worker};
use serde_json::json;
use std::collections::BTreeMap;
use tokio_postgres::Transaction;

/// The consumer group of the library projector.
pub const GROUP: &str = "projector-library";

/// Projects library events.
#[derive(Debug)]
pub struct LibraryProjector {
    pool: Pool,
    group: &'static str,
}

impl LibraryProjector {
    pub fn new(pool: Pool) -> Self {
        Self::in_group(pool, GROUP)
    }

    /// A projector consuming as `group` (a rebuild reads from the start
    /// under a group of its own).
    pub fn in_group(pool: Pool, group: &'static str) -> Self {
        Self { pool, group }
    }
}

#[async_trait]
impl Worker for LibraryProjector {
    type Input = LibraryEntryRecord;

    fn name(&self) -> &'static str {
        self.group
    }

    fn input(&self) -> Topic<LibraryEntryRecord> {
        topics::LIBRARY
    }

    async fn handle_batch(
        &self,
        batch: &[Input<LibraryEntryRecord>],
    ) -> Result<Handled, Transient> {
        project(&self.pool, topics::LIBRARY.name(), &EntryRows, batch).await
    }
}

struct EntryRows;

#[async_trait]
impl Rows for EntryRows {
    type Record = LibraryEntryRecord;

    fn refuse(&self, e: &LibraryEntryRecord) -> Option<String> {
        let incomplete = e.op == LibraryOp::Upsert && (e.request.is_none() || e.response.is_none());
        incomplete.then(|| {
            format!(
                "library entry {}: an upsert needs a request and a response",
                e.entry_id
            )
        })
    }

    async fn write(
        &self,
        tx: &Transaction<'_>,
        inputs: &[&Input<LibraryEntryRecord>],
    ) -> Result<(), tokio_postgres::Error> {
        let mut latest: BTreeMap<(&str, &str), &LibraryEntryRecord> = BTreeMap::new();
        for i in inputs {
            latest.insert((&i.value.tenant, &i.value.entry_id), &i.value);
        }
        for ((tenant, id), e) in latest {
            ghost_store::tenant::scope(tx, tenant).await?;
            match (&e.op, &e.request, &e.response) {
                (LibraryOp::Upsert, Some(req), Some(resp)) => {
                    let request = json!({
                        "method": req.method,
                        "uri": req.uri,
                        "headers": headers_json(&req.headers),
                        "body": String::from_utf8_lossy(&req.body),
                    });
                    let response = json!({
                        "status": resp.status,
                        "headers": headers_json(&resp.headers),
                        "body": String::from_utf8_lossy(&resp.body),
                    });
                    tx.execute(
                        "INSERT INTO library_entries (tenant_id, entry_id, service, source, request, response, changed_at_us) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (tenant_id, entry_id) DO UPDATE SET service = EXCLUDED.service, \
                         source = EXCLUDED.source, request = EXCLUDED.request, response = EXCLUDED.response, \
                         changed_at_us = EXCLUDED.changed_at_us",
                        &[&tenant, &id, &e.service, &e.source, &request, &response, &e.changed_at_us],
                    )
                    .await?;
                }
                _ => {
                    tx.execute(
                        "DELETE FROM library_entries WHERE tenant_id = $1 AND entry_id = $2",
                        &[&tenant, &id],
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }
}
