//! Tenant scoping: the per-transaction setting every tenant table's policy
//! reads. Set it again within one transaction to switch tenant (the projector
//! writes several tenants' rows in one transaction with its offsets).

use tokio_postgres::Transaction;

/// Scopes the rest of `tx` (or until the next call) to `tenant`.
pub async fn scope(tx: &Transaction<'_>, tenant: &str) -> Result<(), tokio_postgres::Error> {
    tx.execute("SELECT set_config('ghost.tenant', $1, true)", &[&tenant])
        .await?;
    Ok(())
}
