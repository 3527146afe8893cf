//! The accept loop and shutdown: takes connections, gives each a session task
//! with its own tracing span, and on shutdown waits (bounded) for every
//! session to say goodbye.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::time::{sleep, timeout};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, error, info, info_span, warn};

use crate::config::Config;
use crate::limits::{Connections, Permit};
use crate::names::RoomName;
use crate::rooms;
use crate::session::{self, Context};

/// How long sessions get to say goodbye at shutdown before the server stops
/// waiting for them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long the one-line refusal of a connection over the limits may take.
const REFUSAL_WRITE: Duration = Duration::from_millis(500);

/// Longest pause after failed accepts (e.g. out of file descriptors), so the
/// loop neither spins nor gives up.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serves `listener` until `shutdown` is cancelled, then tells every client,
/// waits for the sessions (at most `SHUTDOWN_GRACE`) and returns.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let default_room = RoomName::parse(&config.default_room)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let (rooms, rooms_task) = rooms::spawn(default_room);
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0);
    let ctx = Arc::new(Context {
        config,
        rooms,
        started,
    });
    let connections = Connections::new(
        ctx.config.max_connections,
        ctx.config.max_connections_per_ip,
    );
    let sessions = TaskTracker::new();
    let mut backoff = Duration::from_millis(10);
    info!(addr = %listener.local_addr()?, "listening");
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff = Duration::from_millis(10);
                let permit = match connections.admit(peer.ip()) {
                    Ok(permit) => permit,
                    Err(refusal) => {
                        info!(%peer, ?refusal, open = connections.open(), "connection refused");
                        let message = refusal.message(&ctx.config.server_name);
                        // A new socket's send buffer has room for one line;
                        // the bound only matters for a peer gone already.
                        tokio::spawn(async move {
                            let mut stream = stream;
                            let _ =
                                timeout(REFUSAL_WRITE, stream.write_all(message.as_bytes())).await;
                        });
                        continue;
                    }
                };
                if let Err(e) = stream.set_nodelay(true) {
                    warn!(%peer, error = %e, "set_nodelay failed");
                }
                let span = info_span!("conn", %peer, nick = tracing::field::Empty);
                sessions.spawn(
                    connection(stream, ctx.clone(), shutdown.clone(), Some(permit))
                        .instrument(span),
                );
            }
            Err(e) => {
                error!(error = %e, backoff_ms = backoff.as_millis() as u64, "accept failed");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
            }
        }
    }
    info!("shutting down");
    drop(listener);
    sessions.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, sessions.wait())
        .await
        .is_err()
    {
        warn!(
            left = sessions.len(),
            "sessions still open after the grace period"
        );
    }
    drop(ctx);
    rooms_task.abort();
    Ok(())
}

/// The task spawned per connection: the session itself, holding its permit
/// to the end. Not an `async` block that awaits the session and then drops
/// the permit: such a block stores the session future twice (once captured,
/// once being awaited), which was 2.2 KB more for every connection.
pub(crate) fn connection(
    stream: tokio::net::TcpStream,
    ctx: Arc<session::Context>,
    shutdown: CancellationToken,
    permit: Option<Permit>,
) -> impl Future<Output = ()> + Send + 'static {
    session::run(stream, ctx, shutdown, permit)
}
