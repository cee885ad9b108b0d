//! Shutdown as a protocol: a signal flips the flag and fixes one deadline for
//! the whole process; workers stop polling, finish the batch in hand (make it
//! durable, commit) and exit, and whatever is not done by the deadline is
//! abandoned uncommitted (it is redelivered on the next start).

use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Default time from the signal until everything must have stopped.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

/// A cloneable shutdown flag; once triggered it carries the deadline.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<Option<Instant>>,
}

/// The side that triggers shutdown.
#[derive(Debug)]
pub struct ShutdownTrigger {
    tx: watch::Sender<Option<Instant>>,
}

impl Shutdown {
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (tx, rx) = watch::channel(None);
        (ShutdownTrigger { tx }, Shutdown { rx })
    }

    pub fn is_triggered(&self) -> bool {
        self.rx.borrow().is_some()
    }

    /// When everything must have stopped, once shutdown was triggered.
    pub fn deadline(&self) -> Option<Instant> {
        *self.rx.borrow()
    }

    /// Whether shutdown was triggered and its deadline has passed.
    pub fn expired(&self) -> bool {
        self.deadline().is_some_and(|d| Instant::now() >= d)
    }

    /// Resolves once shutdown was triggered (or the trigger was dropped).
    pub async fn triggered(&mut self) {
        let _ = self.rx.wait_for(Option::is_some).await;
    }

    /// Resolves once the deadline passed (never before shutdown is triggered).
    pub async fn deadline_passed(&mut self) {
        self.triggered().await;
        match self.deadline() {
            Some(d) => tokio::time::sleep_until(d).await,
            // The trigger was dropped without a deadline: nothing bounds us.
            None => std::future::pending().await,
        }
    }
}

impl ShutdownTrigger {
    /// Triggers shutdown; everything must stop within `within` from now.
    /// A second trigger keeps the first deadline.
    pub fn trigger(&self, within: Duration) -> Instant {
        let at = Instant::now() + within;
        self.tx.send_if_modified(|d| {
            if d.is_none() {
                *d = Some(at);
                true
            } else {
                false
            }
        });
        self.tx.borrow().unwrap_or(at)
    }

    /// A flag that follows this trigger.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown {
            rx: self.tx.subscribe(),
        }
    }
}

/// SIGINT and SIGTERM handlers, registered when created. Create this before a
/// process announces it is ready: a signal that arrives before registration
/// would take the default action and kill the process without draining.
#[derive(Debug)]
pub struct Signals {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    /// Registers the handlers now (must run inside a tokio runtime).
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// Resolves on the first SIGINT or SIGTERM.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        {
            async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                _ = next(&mut self.int) => {}
                _ = next(&mut self.term) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_deadline_holds_for_everyone() {
        let (trigger, shutdown) = Shutdown::new();
        assert!(!shutdown.is_triggered() && shutdown.deadline().is_none());
        let first = trigger.trigger(Duration::from_secs(5));
        let second = trigger.trigger(Duration::from_secs(60));
        assert_eq!(first, second);
        assert_eq!(shutdown.deadline(), Some(first));
        assert_eq!(trigger.subscribe().deadline(), Some(first));
        assert!(!shutdown.expired());
    }
}
