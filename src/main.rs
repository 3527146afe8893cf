//! `tavern [--config FILE]`: loads the configuration, binds, serves until
//! SIGINT or SIGTERM. A second signal exits at once. Logs go to standard
//! error; standard output has one `tavern listening on ADDRESS` line per
//! address bound, for scripts and tests to find the ports.

#![forbid(unsafe_code)]

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use tavern::config::LogFormat;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// jemalloc, not glibc's malloc: a burst (10,000 sign-ons each announced to
/// the whole room) frees far more than stays in use, and glibc kept those
/// holes resident: 6.0 KB of RSS per idle connection at 10,000 with 3.7 KB in
/// use. jemalloc's background thread hands freed pages back within a second
/// (`dirty_decay_ms`, set in `.cargo/config.toml`): 3.2 KB.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tavern: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = tavern::Config::load(config_path()?.as_deref())?;
    init_logs(config.log_format);
    let listeners = tavern::bind(&config.listen)?;
    for listener in &listeners {
        println!("tavern listening on {}", listener.local_addr()?);
    }
    let shutdown = CancellationToken::new();
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        on_signal.cancel();
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        eprintln!("tavern: second signal, exiting now");
        std::process::exit(1);
    });
    tavern::run(listeners, config, shutdown).await?;
    Ok(())
}

/// Logs to standard error at `RUST_LOG` (default `info`): text, colored
/// only on a terminal (a file or a pipe gets no escape codes), or JSON.
fn init_logs(format: LogFormat) {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().init(),
    }
}

/// `--config FILE` (or `--config=FILE`), the only argument.
fn config_path() -> anyhow::Result<Option<PathBuf>> {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    while let Some(arg) = args.next() {
        if arg == "--config" {
            path = Some(args.next().context("--config needs a file name")?.into());
        } else if let Some(value) = arg.strip_prefix("--config=") {
            path = Some(value.into());
        } else {
            anyhow::bail!("unknown argument {arg:?}; usage: tavern [--config FILE]");
        }
    }
    Ok(path)
}
