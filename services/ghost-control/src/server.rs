//! Binding and serving the control plane with graceful shutdown.

use crate::auth::{ApiKeys, BootstrapOutcome};
use crate::config::ControlConfig;
use crate::error::ControlError;
use crate::routes::{AppState, router};
use crate::view::StateView;
use ghost_log::SharedLog;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A control plane that is serving.
#[derive(Debug)]
pub struct RunningControl {
    pub local_addr: SocketAddr,
    /// What happened to the key store; `Generated` carries the key to show once.
    pub bootstrap: BootstrapOutcome,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Loads keys, binds and serves.
pub async fn start(
    config: ControlConfig,
    log: SharedLog,
    view: Arc<dyn StateView>,
) -> Result<RunningControl, ControlError> {
    let (keys, bootstrap) =
        ApiKeys::load_or_bootstrap(&config.state_dir, config.bootstrap_key.as_deref())?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ControlError::Bind {
            addr: config.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| ControlError::Bind {
        addr: config.listen,
        source,
    })?;
    let app = router(AppState {
        keys: Arc::new(keys),
        log,
        view,
        mode_wait: config.mode_wait,
    });
    let (shutdown, mut rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = rx.wait_for(|v| *v).await;
        });
        if let Err(error) = serve.await {
            tracing::error!(%error, "control plane server failed");
        }
    });
    Ok(RunningControl {
        local_addr,
        bootstrap,
        shutdown,
        task,
    })
}

impl RunningControl {
    /// Stops accepting and drains requests until `deadline`.
    pub async fn shutdown(self, deadline: Duration) {
        self.shutdown.send_replace(true);
        let mut task = self.task;
        if tokio::time::timeout(deadline, &mut task).await.is_err() {
            task.abort();
        }
    }
}
