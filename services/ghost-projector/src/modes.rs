//! `ghost.modes.v1` → `modes`: the latest mode of every scope.

use crate::sink::{Rows, project};
use async_trait::async_trait;
use ghost_schema::{ModeChangeRecord, ModeRecord};
use ghost_store::Pool;
use ghost_topics::{self as topics, Topic};
use ghost_worker::{Handled, Input, Transient, Worker};
use std::collections::BTreeMap;
use tokio_postgres::Transaction;

/// The consumer group of the modes projector.
pub const GROUP: &str = "projector-modes";

/// Projects mode changes.
#[derive(Debug)]
pub struct ModesProjector {
    pool: Pool,
    group: &'static str,
}

impl ModesProjector {
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
impl Worker for ModesProjector {
    type Input = ModeChangeRecord;

    fn name(&self) -> &'static str {
        self.group
    }

    fn input(&self) -> Topic<ModeChangeRecord> {
        topics::MODES
    }

    async fn handle_batch(&self, batch: &[Input<ModeChangeRecord>]) -> Result<Handled, Transient> {
        project(&self.pool, topics::MODES.name(), &ModeRows, batch).await
    }
}

struct ModeRows;

fn mode_name(m: ModeRecord) -> &'static str {
    match m {
        ModeRecord::Learn => "LEARN",
        ModeRecord::Mock => "MOCK",
        ModeRecord::Passthrough => "PASSTHROUGH",
    }
}

#[async_trait]
impl Rows for ModeRows {
    type Record = ModeChangeRecord;

    async fn write(
        &self,
        tx: &Transaction<'_>,
        inputs: &[&Input<ModeChangeRecord>],
    ) -> Result<(), tokio_postgres::Error> {
        // The topic is ordered: the last change of a scope in the batch wins.
        let mut latest: BTreeMap<(&str, String), &ModeChangeRecord> = BTreeMap::new();
        for i in inputs {
            let scope = topics::mode_scope_key(i.value.service.as_deref());
            latest.insert((i.value.tenant.as_str(), scope), &i.value);
        }
        for ((tenant, scope), m) in latest {
            ghost_store::tenant::scope(tx, tenant).await?;
            tx.execute(
                "INSERT INTO modes (tenant_id, scope, mode, change_id, changed_at_us, actor) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (tenant_id, scope) DO UPDATE SET mode = EXCLUDED.mode, \
                 change_id = EXCLUDED.change_id, changed_at_us = EXCLUDED.changed_at_us, actor = EXCLUDED.actor",
                &[
                    &tenant,
                    &scope,
                    &mode_name(m.mode),
                    &m.id,
                    &m.changed_at_us,
                    &m.actor,
                ],
            )
            .await?;
        }
        Ok(())
    }
}
