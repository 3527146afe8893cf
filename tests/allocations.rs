//! Fan-out allocates nothing per recipient: with a counting allocator in
//! this process, a room's lines to 45 members cost no more allocations per
//! line than the same lines to 5.
//!
//! The server runs in this test's process (`common::TestServer`, so its
//! allocations can be counted) on 127.0.0.1 port 0, and the clients are plain blocking sockets
//! that read into stack buffers, so they allocate nothing while counted.
//! One sender sends a line at a time and waits until every member has it,
//! so every line is a batch of its own to every recipient: a per-recipient
//! allocation per batch shows up as one allocation per recipient per line.
//! Only counts are asserted, never timings.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod common;

use common::{DEADLINE, TestServer};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed to the system allocator unchanged; the
// counter is only a side effect.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Rounds counted per phase.
const ROUNDS: usize = 100;

/// Lines in a round of the burst phases.
const MAX_BURST: usize = 16;

/// The longest token waited for.
const MAX_TOKEN: usize = 32;

/// A signed-on client that finds tokens in what it reads without allocating.
struct Client {
    stream: TcpStream,
    /// The end of the last read, for a token split across reads.
    tail: [u8; MAX_TOKEN],
    tail_len: usize,
}

impl Client {
    fn connect(addr: SocketAddr, nick: &str) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        // A line goes in two writes (text, then CR LF): without this the
        // second waits for the first's delayed ACK, 40 ms a line.
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("read timeout");
        let mut client = Client {
            stream,
            tail: [0; MAX_TOKEN],
            tail_len: 0,
        };
        client.wait_for(b"Nickname: ");
        client.send(nick.as_bytes());
        client.wait_for(b"Type /help for commands.");
        client
    }

    fn send(&mut self, text: &[u8]) {
        self.stream.write_all(text).expect("send");
        self.stream.write_all(b"\r\n").expect("send");
    }

    /// Reads until `token` has gone by.
    fn wait_for(&mut self, token: &[u8]) {
        assert!(token.len() <= MAX_TOKEN);
        let start = Instant::now();
        let mut buf = [0u8; 4096 + MAX_TOKEN];
        loop {
            assert!(
                start.elapsed() < DEADLINE,
                "no {token:?} within {DEADLINE:?}"
            );
            buf[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
            let read = match self.stream.read(&mut buf[self.tail_len..]) {
                Ok(0) => panic!("the server closed the connection"),
                Ok(read) => read,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue;
                }
                Err(e) => panic!("read: {e}"),
            };
            let seen = &buf[..self.tail_len + read];
            if let Some(at) = seen.windows(token.len()).position(|w| w == token) {
                // Keep what came after the token for the next wait.
                let rest = &seen[at + token.len()..];
                let keep = rest.len().min(MAX_TOKEN);
                self.tail[..keep].copy_from_slice(&rest[rest.len() - keep..]);
                self.tail_len = keep;
                return;
            }
            let keep = seen.len().min(token.len() - 1);
            self.tail[..keep].copy_from_slice(&seen[seen.len() - keep..]);
            self.tail_len = keep;
        }
    }
}

/// `line-NNNN;` for line `n`, built without allocating.
fn token(n: usize) -> [u8; 10] {
    let mut token = *b"line-0000;";
    let mut n = n;
    for digit in token[5..9].iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
    token
}

/// Sends `rounds` rounds of `burst` lines from the first client, each
/// round in one write and waited for by every client before the next;
/// returns the allocations made meanwhile. A round of one line is a room
/// line of its own to every member; a longer burst reaches members as runs
/// of lines shared by the room.
fn lockstep(clients: &mut [Client], first: usize, rounds: usize, burst: usize) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut out = [0u8; 12 * MAX_BURST];
    for round in 0..rounds {
        let mut len = 0;
        let mut last = token(0);
        for i in 0..burst {
            last = token(first + round * burst + i);
            out[len..len + last.len()].copy_from_slice(&last);
            out[len + last.len()..len + last.len() + 2].copy_from_slice(b"\r\n");
            len += last.len() + 2;
        }
        clients[0].stream.write_all(&out[..len]).expect("send");
        for client in clients.iter_mut() {
            client.wait_for(&last);
        }
    }
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// Allocations per extra member per round, between 5 members and 45.
fn per_member(few: u64, many: u64, rounds: usize) -> f64 {
    (many as f64 - few as f64) / (40.0 * rounds as f64)
}

#[test]
fn a_line_to_many_members_allocates_nothing_per_member() {
    let server = TestServer::with_config(tavern::Config {
        negotiation_wait_ms: 20,
        ..common::test_config()
    });
    let addr = server.addr;

    let mut clients: Vec<Client> = (0..5)
        .map(|i| Client::connect(addr, &format!("few{i}")))
        .collect();
    // Warm-up: every connection's queues reach their working size.
    lockstep(&mut clients, 0, 20, MAX_BURST);
    let few_single = lockstep(&mut clients, 1000, ROUNDS, 1);
    let few_burst = lockstep(&mut clients, 2000, ROUNDS, MAX_BURST);

    for i in 0..40 {
        clients.push(Client::connect(addr, &format!("many{i}")));
    }
    // Everyone has seen every join notice before the warm-up ends.
    lockstep(&mut clients, 4000, 20, MAX_BURST);
    let many_single = lockstep(&mut clients, 5000, ROUNDS, 1);
    let many_burst = lockstep(&mut clients, 6000, ROUNDS, MAX_BURST);

    for (what, few, many) in [
        ("single line", few_single, many_single),
        ("burst of 16", few_burst, many_burst),
    ] {
        let per_member = per_member(few, many, ROUNDS);
        eprintln!(
            "{what}: allocations per round {:.1} to 5 members, {:.1} to 45; {per_member:.3} per extra member",
            few as f64 / ROUNDS as f64,
            many as f64 / ROUNDS as f64,
        );
        // Before shared segments this was one allocation (the write buffer)
        // per member per round, or more.
        assert!(
            per_member < 0.1,
            "{what}: {per_member:.3} allocations per member per round ({few} for {ROUNDS} rounds to 5 members, {many} to 45)"
        );
    }

    drop(clients);
    server.stop();
}
