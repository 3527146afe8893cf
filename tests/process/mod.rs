//! The tavern binary as a child process, for tests that need the real
//! program (its signal handling, its defaults): started on 127.0.0.1 port 0
//! with the environment a test gives, its output kept, and stopped by its
//! PID when dropped.
#![allow(dead_code)] // each test file uses a different part

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use crate::common;

/// A tavern process; killed by its PID and reaped when dropped.
pub struct Tavern {
    /// The process this test started (the only one it may stop).
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Everything it wrote to stdout and stderr, kept by reader threads so
    /// it never blocks on a full pipe.
    log: Arc<Mutex<String>>,
}

impl Tavern {
    /// Starts the binary with `env` on top of a test's defaults: loopback
    /// port 0, every client from one address allowed, flood control off,
    /// warnings only. `TAVERN_*` variables of the caller's own are removed.
    pub fn start(env: &[(&str, &str)]) -> Tavern {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tavern"));
        for (name, _) in std::env::vars_os() {
            if name
                .to_string_lossy()
                .to_ascii_uppercase()
                .starts_with("TAVERN_")
            {
                command.env_remove(name);
            }
        }
        command
            .env("TAVERN_LISTEN", "127.0.0.1:0")
            .env("TAVERN_MAX_CONNECTIONS_PER_IP", "10000")
            .env("TAVERN_CONNECT_RATE_PER_IP_PER_MINUTE", "0")
            .env("TAVERN_FLOOD_LINES_PER_SEC", "0")
            .env("TAVERN_NEGOTIATION_WAIT_MS", "300")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("spawn tavern");
        let log = Arc::new(Mutex::new(String::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        // The "listening on" line may come on either stream; both are kept.
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = Arc::clone(&log);
            let addr_tx = addr_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if let Some((_, addr)) = line.split_once("tavern listening on ")
                        && let Ok(addr) = addr.trim().parse::<SocketAddr>()
                    {
                        let _ = addr_tx.send(addr);
                    }
                    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let addr = match addr_rx.recv_timeout(common::DEADLINE) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "tavern did not say where it listens; its output:\n{}",
                    log.lock().unwrap_or_else(PoisonError::into_inner)
                );
            }
        };
        Tavern { child, addr, log }
    }

    /// What the server wrote so far.
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// SIGTERM, as an admin stopping it would send.
    pub fn terminate(&self) {
        common::sigterm(self.child.id());
    }

    /// Waits (at most `DEADLINE`) for the process to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        common::wait_exit(&mut self.child)
    }
}

impl Drop for Tavern {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
