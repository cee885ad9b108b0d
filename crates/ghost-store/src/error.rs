//! Why a Postgres operation failed, in words an operator can act on.

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid Postgres URL: {0}")]
    Url(String),
    // The driver's errors print their causes themselves: kept out of the
    // source chain so reports do not say them twice.
    #[error("cannot connect to Postgres: {}", full(.0))]
    Connect(tokio_postgres::Error),
    #[error("Postgres pool: {0}")]
    Pool(String),
    #[error("migrating the schema failed: {0}")]
    Migrate(refinery::Error),
    #[error(
        "the database schema is at version {applied} but this build needs {latest}: run `ghost migrate --postgres URL` first"
    )]
    Behind { applied: i32, latest: i32 },
    #[error(
        "the database schema is at version {applied}, newer than this build's {latest}: upgrade ghost"
    )]
    Ahead { applied: i32, latest: i32 },
    #[error(
        "application role name `{0}` must be lower-case letters, digits and `_`, starting with a letter"
    )]
    RoleName(String),
    #[error("{context}: {}", full(.cause))]
    Query {
        context: &'static str,
        cause: tokio_postgres::Error,
    },
}

/// An error with its causes, as one line (the driver's own Display leaves
/// out the cause: "db error", "error connecting to server").
fn full(e: &tokio_postgres::Error) -> String {
    let mut out = e.to_string();
    let mut cur = std::error::Error::source(e);
    while let Some(c) = cur {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = c.source();
    }
    out
}

impl StoreError {
    pub(crate) fn query(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Self {
        move |cause| StoreError::Query { context, cause }
    }

    /// Whether retrying later may succeed (the server is down or restarting,
    /// a connection dropped, a serialization conflict), as opposed to a
    /// statement that can never succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Connect(_) | StoreError::Pool(_) => true,
            StoreError::Query { cause, .. } => is_transient(cause),
            _ => false,
        }
    }
}

/// Whether a driver error may go away on retry.
pub fn is_transient(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    if e.is_closed() {
        return true;
    }
    match e.code() {
        // No SQLSTATE: the connection or I/O failed.
        None => true,
        Some(code) => {
            *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
                || *code == SqlState::TOO_MANY_CONNECTIONS
                || code.code().starts_with("08")
        }
    }
}
