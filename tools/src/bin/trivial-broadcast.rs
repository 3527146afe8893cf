//! trivial-broadcast: the floor of the benchmarks. A line-broadcast server
//! with no telnet, no names and no rooms: every line (LF-terminated) any
//! client sends goes to every connected client, the sender included. It
//! marks what the load generator can absorb on this machine.
//!
//! The same semantics as `bench/peers/go-broadcast -mode buffered`: one task
//! per client, a bounded queue of shared `Bytes` per client (a client whose
//! queue is full is disconnected), writes coalesced from whatever is queued.
//! The one liberty: the complete lines of one read are queued as one `Bytes`,
//! shared by every recipient, not line by line.
//!
//! Usage: `trivial-broadcast PORT [ADDR]` (ADDR defaults to 127.0.0.1).
//! Each client gets `ready\n` once it is a member (for `tavern-load
//! --protocol raw --ready-marker ready`).

use std::collections::HashMap;
use std::io::ErrorKind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};

/// Queued messages (reads' worth of lines) per client.
const QUEUE: usize = 1024;
/// A read that ends no line may hold at most this much.
const MAX_LINE: usize = 64 * 1024;
/// Bytes read at once.
const READ_BUF: usize = 8192;
/// Bytes gathered from the queue into one write at most.
const WRITE_BATCH: usize = 256 * 1024;

struct Member {
    tx: mpsc::Sender<Bytes>,
    kick: Arc<Notify>,
}

#[derive(Default)]
struct Hub {
    members: Mutex<HashMap<u64, Member>>,
    next_id: AtomicU64,
}

impl Hub {
    fn broadcast(&self, msg: Bytes) {
        let mut members = self.members.lock().unwrap();
        members.retain(|_, m| match m.tx.try_send(msg.clone()) {
            Ok(()) => true,
            Err(_) => {
                m.kick.notify_one();
                false
            }
        });
    }
}

async fn client(hub: Arc<Hub>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let id = hub.next_id.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
    let kick = Arc::new(Notify::new());
    let _ = tx.try_send(Bytes::from_static(b"ready\n"));
    hub.members.lock().unwrap().insert(
        id,
        Member {
            tx,
            kick: kick.clone(),
        },
    );
    // Buffers are taken when there is something to read or write, so an
    // idle client holds none.
    let mut inbuf = BytesMut::new();
    let mut out: Vec<u8> = Vec::new();
    let mut written = 0;
    loop {
        tokio::select! {
            biased;
            _ = kick.notified() => break,
            r = stream.writable(), if written < out.len() => {
                if r.is_err() {
                    break;
                }
                match stream.try_write(&out[written..]) {
                    Ok(n) => {
                        written += n;
                        if written == out.len() {
                            written = 0;
                            if out.capacity() > WRITE_BATCH {
                                out = Vec::new();
                            } else {
                                out.clear();
                            }
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(_) => break,
                }
            }
            m = rx.recv(), if out.is_empty() => match m {
                Some(msg) => {
                    out.extend_from_slice(&msg);
                    while out.len() < WRITE_BATCH {
                        match rx.try_recv() {
                            Ok(msg) => out.extend_from_slice(&msg),
                            Err(_) => break,
                        }
                    }
                }
                None => break,
            },
            r = stream.readable() => {
                if r.is_err() {
                    break;
                }
                if inbuf.capacity() - inbuf.len() < 1024 {
                    inbuf.reserve(READ_BUF);
                }
                match stream.try_read_buf(&mut inbuf) {
                    Ok(0) => break,
                    Ok(_) => {
                        if let Some(end) = inbuf.iter().rposition(|&b| b == b'\n') {
                            hub.broadcast(inbuf.split_to(end + 1).freeze());
                        } else if inbuf.len() > MAX_LINE {
                            break;
                        }
                        if inbuf.is_empty() {
                            // Nothing partial kept: let the buffer go.
                            inbuf = BytesMut::new();
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(_) => break,
                }
            }
        }
    }
    hub.members.lock().unwrap().remove(&id);
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port = args.next().unwrap_or_else(|| "7000".into());
    let addr = args.next().unwrap_or_else(|| "127.0.0.1".into());
    let listener = TcpListener::bind(format!("{addr}:{port}")).await?;
    eprintln!("trivial-broadcast listening on {}", listener.local_addr()?);
    let hub = Arc::new(Hub::default());
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(client(hub.clone(), stream));
            }
            Err(e) => {
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}
