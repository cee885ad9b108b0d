//! The effectively-once batch write every projector loop shares: one
//! transaction holds the rows and the offsets after them; inputs the stored
//! offsets already cover are skipped; a permanent failure is narrowed down to
//! the records that cause it, which are rejected (dead-lettered) while the
//! rest are written and the offsets move past all of them.

use async_trait::async_trait;
use ghost_schema::Contract;
use ghost_store::{Pool, StoreError, pool_error};
use ghost_worker::{Handled, Input, Rejected, Transient};
use std::collections::BTreeMap;
use tokio_postgres::Transaction;

/// How one topic's records become rows.
#[async_trait]
pub(crate) trait Rows: Send + Sync {
    type Record: Contract + Send + Sync + 'static;

    /// Why a record can never be written (checked before writing), if so.
    fn refuse(&self, _record: &Self::Record) -> Option<String> {
        None
    }

    /// Writes the rows of `inputs` (in offset order per partition) in `tx`.
    async fn write(
        &self,
        tx: &Transaction<'_>,
        inputs: &[&Input<Self::Record>],
    ) -> Result<(), tokio_postgres::Error>;
}

/// Header lines as the JSON the tables store (`[{"name", "value"}]`; values
/// that are not UTF-8 are stored lossily: the bytes stay in the log).
pub(crate) fn headers_json(h: &[ghost_schema::HeaderRecord]) -> serde_json::Value {
    serde_json::Value::Array(
        h.iter()
            .map(|h| serde_json::json!({ "name": h.name, "value": String::from_utf8_lossy(&h.value) }))
            .collect(),
    )
}

fn transient(e: &StoreError) -> Transient {
    Transient(e.to_string())
}

/// Writes `batch` of `topic` effectively once.
pub(crate) async fn project<R: Rows>(
    pool: &Pool,
    topic: &'static str,
    rows: &R,
    batch: &[Input<R::Record>],
) -> Result<Handled, Transient> {
    let mut handled = Handled::default();
    let mut good: Vec<(usize, &Input<R::Record>)> = Vec::with_capacity(batch.len());
    for (index, input) in batch.iter().enumerate() {
        match rows.refuse(&input.value) {
            Some(reason) => handled.rejected.push(Rejected { index, reason }),
            None => good.push((index, input)),
        }
    }
    let offsets = next_offsets(batch.iter());
    let inputs: Vec<&Input<R::Record>> = good.iter().map(|(_, i)| *i).collect();
    match attempt(pool, topic, rows, &inputs, &offsets).await {
        Ok(()) => return Ok(handled),
        Err(e) if e.is_transient() => return Err(transient(&e)),
        Err(e) => {
            tracing::warn!(topic, error = %e, "batch refused; writing its records one by one")
        }
    }
    // Narrow a permanent failure down to its records.
    for (index, input) in good {
        let one = next_offsets(std::iter::once(input));
        match attempt(pool, topic, rows, &[input], &one).await {
            Ok(()) => {}
            Err(e) if e.is_transient() => return Err(transient(&e)),
            Err(e) => handled.rejected.push(Rejected {
                index,
                reason: e.to_string(),
            }),
        }
    }
    // Move the offsets past the rejected records too.
    attempt::<R>(pool, topic, rows, &[], &offsets)
        .await
        .map_err(|e| transient(&e))?;
    Ok(handled)
}

/// Per partition: one past the highest offset among `inputs`.
fn next_offsets<'a, T: 'a>(inputs: impl Iterator<Item = &'a Input<T>>) -> BTreeMap<u32, i64> {
    let mut out = BTreeMap::new();
    for i in inputs {
        let next = i64::try_from(i.record.offset + 1).unwrap_or(i64::MAX);
        let e = out.entry(i.record.partition).or_insert(next);
        *e = (*e).max(next);
    }
    out
}

/// One transaction: lock the stored offsets, write what they do not cover,
/// move them forward, commit.
async fn attempt<R: Rows>(
    pool: &Pool,
    topic: &'static str,
    rows: &R,
    inputs: &[&Input<R::Record>],
    offsets: &BTreeMap<u32, i64>,
) -> Result<(), StoreError> {
    let q = |context| move |cause| StoreError::Query { context, cause };
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client
        .transaction()
        .await
        .map_err(q("beginning a transaction"))?;
    let stored: BTreeMap<u32, i64> = tx
        .query(
            "SELECT partition, next_offset FROM projector_offsets WHERE topic = $1 FOR UPDATE",
            &[&topic],
        )
        .await
        .map_err(q("reading the projector's offsets"))?
        .iter()
        .map(|r| {
            (
                u32::try_from(r.get::<_, i32>(0)).unwrap_or(0),
                r.get::<_, i64>(1),
            )
        })
        .collect();
    let fresh: Vec<&Input<R::Record>> = inputs
        .iter()
        .copied()
        .filter(|i| {
            let offset = i64::try_from(i.record.offset).unwrap_or(i64::MAX);
            stored
                .get(&i.record.partition)
                .is_none_or(|next| offset >= *next)
        })
        .collect();
    if !fresh.is_empty() {
        rows.write(&tx, &fresh).await.map_err(q("writing rows"))?;
    }
    for (partition, next) in offsets {
        let p = i32::try_from(*partition).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO projector_offsets (topic, partition, next_offset) VALUES ($1, $2, $3) \
             ON CONFLICT (topic, partition) DO UPDATE SET next_offset = GREATEST(projector_offsets.next_offset, EXCLUDED.next_offset)",
            &[&topic, &p, next],
        )
        .await
        .map_err(q("storing the projector's offsets"))?;
    }
    tx.commit().await.map_err(q("committing"))?;
    Ok(())
}
