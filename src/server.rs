//! The listeners and the accept loop: binds every `listen` address (IPv4
//! and IPv6 side by side), takes connections from all of them, admits each
//! against the connection limits (a one-line refusal before any
//! negotiation, logged in a bounded summary), gives each a session task with
//! its own tracing span, and on shutdown waits (bounded) for every session
//! to say goodbye.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, error, info, info_span, warn};

use crate::address::AddressGroup;
use crate::config::Config;
use crate::limits::{Connections, Permit};
use crate::names::RoomName;
use crate::refusals::{Record, RefusalLog, Summary};
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

/// Connections the kernel queues per listener before tavern accepts them.
const BACKLOG: i32 = 1024;

/// The listeners [`run`] serves: one, or several (IPv4 and IPv6 addresses).
#[derive(Debug)]
pub struct Listeners(Vec<TcpListener>);

impl From<TcpListener> for Listeners {
    fn from(listener: TcpListener) -> Listeners {
        Listeners(vec![listener])
    }
}

impl From<Vec<TcpListener>> for Listeners {
    fn from(listeners: Vec<TcpListener>) -> Listeners {
        Listeners(listeners)
    }
}

/// Binds every address of `listen`, in a tokio runtime.
///
/// IPv4 and IPv6 side by side: an IPv6 socket is IPv6-only whenever an IPv4
/// address is listed too, so `0.0.0.0:4000` and `[::]:4000` (the default)
/// both bind, whatever the host's `net.ipv6.bindv6only`; `[::]` listed
/// without any IPv4 address is dual-stack (IPv4 peers arrive IPv4-mapped),
/// so `listen = "[::]:4000"` alone serves both as admins expect. A host
/// without IPv6 cannot bind an IPv6 address: that address is skipped with a
/// warning as long as another one is bound, so the default starts anywhere.
/// An address in use, or not permitted, is an error for either family.
pub fn bind(listen: &[SocketAddr]) -> io::Result<Vec<TcpListener>> {
    let any_ipv4 = listen.iter().any(SocketAddr::is_ipv4);
    let mut listeners = Vec::with_capacity(listen.len());
    let mut skipped = Vec::new();
    for &addr in listen {
        match bind_one(addr, any_ipv4) {
            Ok(listener) => listeners.push(listener),
            Err(e) if host_lacks_ipv6(addr, &e) => skipped.push((addr, e)),
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot listen on {addr}: {e}"),
                ));
            }
        }
    }
    if listeners.is_empty() {
        return Err(match skipped.pop() {
            Some((addr, e)) => io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")),
            None => io::Error::new(io::ErrorKind::InvalidInput, "no address to listen on"),
        });
    }
    for (addr, e) in skipped {
        warn!(%addr, error = %e, "IPv6 not available here; not listening on this address");
    }
    Ok(listeners)
}

/// Whether binding `addr` failed because the host cannot do IPv6 (no IPv6
/// module, or IPv6 turned off: no socket, or no such address), rather than
/// for a reason an admin must see (the port taken, or not permitted).
fn host_lacks_ipv6(addr: SocketAddr, error: &io::Error) -> bool {
    addr.is_ipv6()
        && !matches!(
            error.kind(),
            io::ErrorKind::AddrInUse | io::ErrorKind::PermissionDenied
        )
}

fn bind_one(addr: SocketAddr, any_ipv4: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // What tokio's own `bind` does: a restart may bind at once while the
    // last run's connections sit in TIME_WAIT.
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(any_ipv4 || !addr.ip().is_unspecified())?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
}

/// Serves `listeners` until `shutdown` is cancelled, then tells every client,
/// waits for the sessions (at most `SHUTDOWN_GRACE`) and returns.
pub async fn run(
    listeners: impl Into<Listeners>,
    config: Config,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let Listeners(listeners) = listeners.into();
    let default_room = RoomName::parse(&config.default_room)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let (rooms, rooms_task) = rooms::spawn(default_room, config.big_room_members);
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
        ctx.config.connect_rate_per_ip_per_minute,
        ctx.config.connect_burst_per_ip,
    );
    let mut refusals = RefusalLog::default();
    let sessions = TaskTracker::new();
    let mut backoff = Duration::from_millis(10);
    for listener in &listeners {
        info!(addr = %listener.local_addr()?, "listening");
    }
    let mut turn = 0;
    loop {
        let summary_due = refusals.poll_timeout();
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = accept_any(&listeners, &mut turn) => accepted,
            () = wait_until(summary_due) => {
                log_summary(refusals.poll_summary(Instant::now().into_std()));
                continue;
            }
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff = Duration::from_millis(10);
                let now = Instant::now().into_std();
                let permit = match connections.admit(peer.ip(), now) {
                    Ok(permit) => permit,
                    Err(refusal) => {
                        let group = AddressGroup::of(peer.ip());
                        if refusals.record(group, refusal, now) == Record::Log {
                            info!(
                                %peer,
                                %refusal,
                                open = connections.open(),
                                "connection refused; more from this address are summed up within a minute"
                            );
                        }
                        refuse(stream, refusal.message(&ctx.config.server_name));
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
    log_summary(refusals.take_summary(Instant::now().into_std()));
    drop(listeners);
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

/// The next connection from any listener. Each call starts polling at the
/// next listener in turn, so a flood on one cannot starve the others.
fn accept_any<'a>(
    listeners: &'a [TcpListener],
    turn: &'a mut usize,
) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + 'a {
    std::future::poll_fn(move |cx| {
        let count = listeners.len();
        for i in 0..count {
            let index = (*turn + i) % count;
            if let Poll::Ready(accepted) = listeners[index].poll_accept(cx) {
                *turn = (index + 1) % count;
                return Poll::Ready(accepted);
            }
        }
        Poll::Pending
    })
}

/// Sleeps until `deadline`, or forever without one.
async fn wait_until(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(deadline) => sleep_until(Instant::from_std(deadline)).await,
        None => std::future::pending().await,
    }
}

/// Writes the interval's summary of refused connections: a line per address
/// refused more than once, and one for the addresses past the table.
fn log_summary(summary: Option<Summary>) {
    let Some(summary) = summary else {
        return;
    };
    let secs = summary.interval.as_secs();
    for (address, refused, refusal) in summary.repeated {
        warn!(%address, refused, secs, latest = %refusal, "connections refused from one address");
    }
    if summary.others > 0 {
        warn!(
            refused = summary.others,
            secs, "connections refused from further addresses, not counted one by one"
        );
    }
}

/// Sends the one-line refusal and closes. A new socket's send buffer has
/// room for one line; the bound only matters for a peer gone already.
fn refuse(mut stream: TcpStream, message: String) {
    tokio::spawn(async move {
        let _ = timeout(REFUSAL_WRITE, stream.write_all(message.as_bytes())).await;
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("literal address")
    }

    /// The default's shape, `0.0.0.0:P` and `[::]:P` on one port: binding
    /// the second failed with "address in use" on Linux before, as `[::]`
    /// was dual-stack and held the IPv4 port too. Each family connects.
    #[tokio::test]
    async fn ipv4_and_ipv6_wildcards_bind_side_by_side_on_one_port() {
        // A free port: taken from the kernel and given back, a few tries in
        // case another test takes it meanwhile.
        let mut bound = None;
        for _ in 0..20 {
            let port = std::net::TcpListener::bind("0.0.0.0:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let listen = [
                addr(&format!("0.0.0.0:{port}")),
                addr(&format!("[::]:{port}")),
            ];
            if let Ok(listeners) = bind(&listen) {
                bound = Some((port, listeners));
                break;
            }
        }
        let (port, listeners) = bound.expect("bound both wildcards on one port");
        assert_eq!(listeners.len(), 2);
        let _v4 = TcpStream::connect(("127.0.0.1", port)).await.expect("IPv4");
        let (_, peer) = listeners[0].accept().await.expect("accepted on IPv4");
        assert!(peer.is_ipv4());
        let _v6 = TcpStream::connect(("::1", port)).await.expect("IPv6");
        let (_, peer) = listeners[1].accept().await.expect("accepted on IPv6");
        assert!(peer.is_ipv6());
    }

    /// `listen = "[::]:P"` alone serves IPv4 too (as an IPv4-mapped peer,
    /// which the per-address limits count as its IPv4 address).
    #[tokio::test]
    async fn an_ipv6_wildcard_alone_serves_ipv4_too() {
        let listeners = bind(&[addr("[::]:0")]).expect("bind [::]:0");
        let port = listeners[0].local_addr().expect("address").port();
        let _v4 = TcpStream::connect(("127.0.0.1", port)).await.expect("IPv4");
        let (_, peer) = listeners[0].accept().await.expect("accepted");
        assert_eq!(
            AddressGroup::of(peer.ip()),
            AddressGroup::of("127.0.0.1".parse().expect("literal"))
        );
    }

    #[test]
    fn only_an_ipv6_address_the_host_cannot_serve_is_skipped() {
        use io::ErrorKind::*;
        let v6 = addr("[::]:4000");
        let v4 = addr("0.0.0.0:4000");
        // EAFNOSUPPORT (no IPv6 module) and EADDRNOTAVAIL (IPv6 turned off).
        for kind in [Unsupported, AddrNotAvailable, Other] {
            assert!(host_lacks_ipv6(v6, &io::Error::from(kind)), "{kind:?}");
            assert!(!host_lacks_ipv6(v4, &io::Error::from(kind)), "{kind:?}");
        }
        for kind in [AddrInUse, PermissionDenied] {
            assert!(!host_lacks_ipv6(v6, &io::Error::from(kind)), "{kind:?}");
        }
    }

    #[tokio::test]
    async fn an_address_in_use_is_an_error_naming_it() {
        let taken = bind(&[addr("127.0.0.1:0")]).expect("bind");
        let port = taken[0].local_addr().expect("address").port();
        let listen = addr(&format!("127.0.0.1:{port}"));
        let error = bind(&[listen]).expect_err("the port is taken");
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
        assert!(error.to_string().contains(&listen.to_string()), "{error}");
    }
}
