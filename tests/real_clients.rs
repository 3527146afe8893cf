//! Real telnet and MUD clients against a real tavern: netkit telnet
//! (`telnet-ssl`), GNU inetutils telnet, busybox telnet, PuTTY's plink,
//! TinTin++, TinyFugue (`tf`) and KBtin, each driven inside a tmux server of its own, typed into with
//! `send-keys` and read back with `capture-pane`.
//!
//! Each test starts a tavern (tests/common), a tmux server on a socket named
//! after the process and the test (`tmux -L tavern-test-<pid>-<test>`, so tests
//! run in parallel) with one 100x30 window running the client, and a raw TCP
//! observer in the same room. Every step waits for what it needs to see,
//! within `common::DEADLINE`; nothing sleeps a fixed time to synchronise. The
//! tmux server is killed when the test ends, passed or failed.
//!
//! A missing program fails the test with the Debian package to install;
//! `.ci/run` installs them all.
//!
//! tmux's BSpace key sends DEL (0x7f), as a terminal's backspace does. The
//! telnet clients get server-side editing (tavern echoes; see the table in
//! ARCHITECTURE.md); TinTin++ and KBtin answer TTYPE with their names, and
//! tf (TinyFugue 4) refuses TTYPE but agrees to EOR: all three edit their own
//! input line and send whole lines.
//!
//! TinTin++ can be started with a setup script (`Tmux::start_tintin`), written
//! to a directory the test owns: `TINTIN_GMCP_SETUP` makes it take GMCP, show
//! each GMCP message, and leave line wrapping to the terminal, whose soft wraps
//! `capture_history` joins back (`capture-pane -J`), so the rows read are the
//! rows tavern sent.

// Test code: a failed unwrap, expect or panic is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Client, DEADLINE, TestServer};

/// The window every client gets, in columns and rows.
const COLUMNS: &str = "100";
const ROWS: &str = "30";

/// How often the screen is read while waiting for something on it.
const POLL: Duration = Duration::from_millis(50);

/// The one session in each test's tmux server.
const SESSION: &str = "tavern";

/// The clients under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Netkit,
    Inetutils,
    Busybox,
    Plink,
    TinTin,
}

impl Kind {
    /// The program and the Debian package that provides it.
    fn program(self) -> (&'static str, &'static str) {
        match self {
            Kind::Netkit => ("telnet-ssl", "telnet-ssl"),
            Kind::Inetutils => ("inetutils-telnet", "inetutils-telnet"),
            Kind::Busybox => ("busybox", "busybox"),
            Kind::Plink => ("plink", "putty-tools"),
            // Installed outside root's PATH.
            Kind::TinTin => ("/usr/games/tt++", "tintin++"),
        }
    }

    /// The shell command that connects the client to `addr`.
    fn command_line(self, addr: SocketAddr) -> String {
        self.command_line_with_setup(addr, None)
    }

    /// The shell command that connects the client to `addr`; TinTin++ reads
    /// the script `setup` first, so what it sets is in place before tavern's
    /// first offer arrives (an `#event` for `IAC WILL GMCP` defined later
    /// comes too late: TinTin++ has answered `DONT GMCP` by then).
    ///
    /// TinTin++ gets `LANG=C.UTF-8` whatever the test's environment: it
    /// accepts UTF-8 in CHARSET, and declares it in MTTS, only when `LANG`
    /// (not `LC_ALL`) names UTF-8.
    fn command_line_with_setup(self, addr: SocketAddr, setup: Option<&Path>) -> String {
        let (program, package) = self.program();
        let program = require(program, package);
        let (ip, port) = (addr.ip(), addr.port());
        match self {
            Kind::Netkit | Kind::Inetutils => {
                assert!(setup.is_none(), "{self:?} reads no setup script");
                format!("{} {ip} {port}", program.display())
            }
            Kind::Busybox => {
                assert!(setup.is_none(), "{self:?} reads no setup script");
                format!("{} telnet {ip} {port}", program.display())
            }
            Kind::Plink => {
                assert!(setup.is_none(), "{self:?} reads no setup script");
                format!("{} -telnet -P {port} {ip}", program.display())
            }
            Kind::TinTin => {
                let read = setup.map_or_else(String::new, |script| {
                    let script = script.display().to_string();
                    assert!(!script.contains('\''), "unquotable path {script:?}");
                    format!(" -r '{script}'")
                });
                format!(
                    "env LANG=C.UTF-8 {} -G{read} -e '#session s {ip} {port}'",
                    program.display()
                )
            }
        }
    }

    /// Whether tavern echoes and edits for this client (server-side editing).
    fn tavern_echoes(self) -> bool {
        self != Kind::TinTin
    }

    /// What the client shows when tavern closes the connection (plink
    /// shows nothing).
    fn closed_message(self) -> &'static str {
        match self {
            Kind::Netkit | Kind::Inetutils | Kind::Busybox => "Connection closed by foreign host",
            Kind::Plink => "",
            Kind::TinTin => "#SESSION 's' DIED.",
        }
    }
}

/// The path of `program` (a bare name is looked up in PATH); fails the test,
/// naming the Debian package to install, when it is missing.
fn require(program: &str, package: &str) -> PathBuf {
    let found = if program.contains('/') {
        Some(PathBuf::from(program)).filter(|path| path.is_file())
    } else {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(program))
                .find(|candidate| candidate.is_file())
        })
    };
    found.unwrap_or_else(|| {
        panic!(
            "`{program}` is not installed: install the Debian package `{package}` \
             (apt-get install {package}, or run .ci/run, which installs every client these tests need)"
        )
    })
}

/// A directory of the test's own under the system's temporary directory,
/// removed with everything in it on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create(name: &str) -> ScratchDir {
        let path = std::env::temp_dir().join(format!("tavern-test-{}-{name}", std::process::id()));
        // Left over only if an earlier process with this id was killed.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        ScratchDir(path)
    }

    /// Writes `contents` to the file `name` in the directory; returns its path.
    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TinTin++ script that makes it take GMCP and show every GMCP message.
///
/// TinTin++ 2.02 answers `WILL GMCP` with `DONT GMCP` unless an event handles
/// `IAC WILL GMCP`, and then sends nothing by itself: the event sends
/// `IAC DO GMCP` (the `\` before the closing brace: no line end). Each GMCP
/// message is shown as `GMCP> <package> <json>`; such a line may appear
/// before text that arrived before it in the same packet, so tests assert no
/// order between the two. With tt++'s own word wrap off, the terminal wraps
/// long lines and `capture-pane -J` joins them back: the rows on the screen
/// are the rows tavern sent.
const TINTIN_GMCP_SETUP: &str = r"#config {WORDWRAP} {OFF}
#event {IAC WILL GMCP} {#send {\xFF\xFD\xC9\}}
#event {IAC SB GMCP} {#showme {GMCP> %2}}
";

/// One tmux server running one client; killed on drop.
struct Tmux {
    socket: String,
    /// The socket file, which tmux leaves behind when killed.
    socket_path: Option<PathBuf>,
    /// Files the client reads, removed after the server is killed.
    scratch: Option<ScratchDir>,
}

impl Tmux {
    /// Starts a tmux server for test `name` with a 100x30 window running
    /// `command`. The window stays after the client exits, so what it printed
    /// last can still be read.
    fn start(name: &str, command: &str) -> Tmux {
        require("tmux", "tmux");
        let mut tmux = Tmux {
            socket: format!("tavern-test-{}-{name}", std::process::id()),
            socket_path: None,
            scratch: None,
        };
        // The guard exists before the server does: whatever fails from here
        // on, drop kills it. `-f /dev/null`: no user configuration.
        let new_session = ["-f", "/dev/null", "new-session", "-d", "-s", SESSION];
        let size = ["-x", COLUMNS, "-y", ROWS];
        let keep_window = [";", "set-option", "-w", "remain-on-exit", "on"];
        tmux.run(&[&new_session[..], &size, &[command], &keep_window].concat());
        let path = tmux.run(&["display-message", "-p", "#{socket_path}"]);
        tmux.socket_path = Some(PathBuf::from(path.trim_end()));
        tmux
    }

    /// Starts TinTin++ connected to `addr` in a tmux server for test `name`,
    /// reading the TinTin++ script `setup` before it connects.
    fn start_tintin(name: &str, addr: SocketAddr, setup: &str) -> Tmux {
        let scratch = ScratchDir::create(name);
        let script = scratch.write("setup.tin", setup);
        let command = Kind::TinTin.command_line_with_setup(addr, Some(&script));
        let mut tmux = Tmux::start(name, &command);
        tmux.scratch = Some(scratch);
        tmux
    }

    /// Runs one tmux command against this test's server; returns its output.
    fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            // Text is UTF-8 whatever the caller's locale; and not nested in
            // a tmux the tests may be run from.
            .env("LC_ALL", "C.UTF-8")
            .env_remove("TMUX")
            .output()
            .expect("run tmux");
        assert!(
            output.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Types `text` literally (UTF-8 included).
    fn send_keys(&self, text: &str) {
        self.run(&["send-keys", "-t", SESSION, "-l", "--", text]);
    }

    /// Presses one named key: "Enter", "BSpace" (DEL, 0x7f)...
    fn send_key(&self, key: &str) {
        self.run(&["send-keys", "-t", SESSION, key]);
    }

    /// The screen as text.
    fn capture(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", SESSION])
    }

    /// The whole history (scrollback and screen) with the terminal's soft
    /// wraps joined: each line is one row as the client wrote it, however
    /// wide (`capture-pane -J`). A row exactly as wide as the window and
    /// ended by CR LF stays a line of its own.
    fn capture_history(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-S", "-", "-t", SESSION])
    }

    /// The screen with its colors and attributes, as tmux re-encodes them in
    /// SGR sequences.
    fn capture_escapes(&self) -> String {
        self.run(&["capture-pane", "-p", "-e", "-t", SESSION])
    }

    /// Reads the screen until `ready` holds for it, and returns that screen;
    /// fails the test with the screen after `DEADLINE`.
    fn wait_for_screen(&self, ready: impl Fn(&str) -> bool, what: &str) -> String {
        self.wait_for(Tmux::capture, ready, what)
    }

    /// As `wait_for_screen`, for `capture_history`.
    fn wait_for_history(&self, ready: impl Fn(&str) -> bool, what: &str) -> String {
        self.wait_for(Tmux::capture_history, ready, what)
    }

    fn wait_for(
        &self,
        capture: fn(&Tmux) -> String,
        ready: impl Fn(&str) -> bool,
        what: &str,
    ) -> String {
        let start = Instant::now();
        loop {
            let screen = capture(self);
            if ready(&screen) {
                return screen;
            }
            if start.elapsed() > DEADLINE {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// Types `text` and waits until the input line shows exactly `shown`.
    fn type_and_see(&self, text: &str, shown: &str) -> String {
        self.send_keys(text);
        self.wait_for_screen(
            |screen| input_line(screen) == shown,
            &format!("{shown:?} on the input line after typing {text:?}"),
        )
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Ends the client too. Errors are moot: the server may be gone.
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .env_remove("TMUX")
            .output();
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The screen's lines, without trailing blanks.
fn lines(screen: &str) -> Vec<&str> {
    screen.lines().map(str::trim_end).collect()
}

/// The last non-empty line: where the cursor is while typing, since the
/// prompt is empty once signed on (both with tavern's echo and TinTin++'s
/// own input line in its default, unsplit screen).
fn input_line(screen: &str) -> &str {
    lines(screen)
        .into_iter()
        .rfind(|line| !line.is_empty())
        .unwrap_or("")
}

/// How many lines of the screen are exactly `line`.
fn count_lines(screen: &str, line: &str) -> usize {
    lines(screen).into_iter().filter(|l| *l == line).count()
}

/// How many lines of the screen start with `prefix`.
fn count_prefixed(screen: &str, prefix: &str) -> usize {
    lines(screen)
        .into_iter()
        .filter(|l| l.starts_with(prefix))
        .count()
}

/// One character on the screen and its foreground color as an SGR parameter
/// string ("36", "38;5;208"), `None` for the default color.
type Cell = (char, Option<String>);

/// Reads a `capture_escapes` screen into lines of cells. tmux writes an SGR
/// sequence only where the attributes change, and trims blank cells (and the
/// resets on them) at line ends, so the color in effect carries from one
/// line to the next: a line's own text does not tell its color.
fn colored_lines(escapes: &str) -> Vec<Vec<Cell>> {
    let mut foreground: Option<String> = None;
    let mut screen = Vec::new();
    for line in escapes.lines() {
        let mut cells = Vec::new();
        let mut rest = line;
        while let Some(c) = rest.chars().next() {
            if let Some(sequence) = rest.strip_prefix("\x1b[") {
                let end = sequence
                    .find(|c: char| !(c.is_ascii_digit() || c == ';'))
                    .unwrap_or(sequence.len());
                if sequence[end..].starts_with('m') {
                    apply_sgr(&sequence[..end], &mut foreground);
                }
                rest = &sequence[(end + 1).min(sequence.len())..];
            } else {
                cells.push((c, foreground.clone()));
                rest = &rest[c.len_utf8()..];
            }
        }
        screen.push(cells);
    }
    screen
}

/// Applies the foreground part of one SGR sequence's parameters.
fn apply_sgr(params: &str, foreground: &mut Option<String>) {
    let params: Vec<&str> = params.split(';').collect();
    let mut i = 0;
    while i < params.len() {
        // Extended colors take 2 (5;N) or 4 (2;R;G;B) more parameters.
        let extended = if params.get(i + 1) == Some(&"5") {
            2
        } else {
            4
        };
        match params[i].parse::<u32>().unwrap_or(0) {
            0 | 39 => *foreground = None,
            code @ (30..=37 | 90..=97) => *foreground = Some(code.to_string()),
            38 => {
                *foreground = Some(params[i..(i + 1 + extended).min(params.len())].join(";"));
                i += extended;
            }
            48 => i += extended,
            _ => {}
        }
        i += 1;
    }
}

/// The foreground color of the first character of `target` on the first
/// screen line whose text contains `line_with`.
fn foreground_of(escapes: &str, line_with: &str, target: &str) -> Option<String> {
    for cells in colored_lines(escapes) {
        let text: String = cells.iter().map(|(c, _)| c).collect();
        if text.contains(line_with) {
            let at = text
                .find(target)
                .unwrap_or_else(|| panic!("no {target:?} in {text:?}"));
            return cells[text[..at].chars().count()].1.clone();
        }
    }
    panic!("no line with {line_with:?} in the color capture:\n{escapes}")
}

/// Whether the observer's visible text has `line` as a whole line.
fn has_line(visible: &str, line: &str) -> bool {
    visible.lines().any(|l| l == line)
}

/// Waits for the nickname prompt, types `nick` and Enter, and waits until
/// both the client and `observer` see the sign-on.
fn sign_on(tmux: &Tmux, observer: &mut Client, nick: &str) {
    tmux.wait_for_screen(|s| s.contains("Nickname:"), "the nickname prompt");
    tmux.type_and_see(nick, &format!("Nickname: {nick}"));
    tmux.send_key("Enter");
    observer.expect(&format!("{nick} has joined"));
    tmux.wait_for_screen(
        |s| s.contains(&format!("Welcome, {nick}!")),
        "the welcome after sign-on",
    );
}

/// Types a line, waits until its echo is on the screen, and presses Enter.
fn enter_line(tmux: &Tmux, line: &str) {
    tmux.type_and_see(line, line);
    tmux.send_key("Enter");
}

/// `helx`, BSpace, `lo`, Enter: the room must see exactly `tom: hello`.
fn an_edited_line_reaches_the_room_exactly(kind: Kind, test: &str) {
    let server = TestServer::start();
    let mut observer = Client::sign_on(server.addr, "watcher");
    let tmux = Tmux::start(test, &kind.command_line(server.addr));
    sign_on(&tmux, &mut observer, "tom");

    tmux.type_and_see("helx", "helx");
    tmux.send_key("BSpace");
    tmux.send_keys("lo");
    let screen = tmux.wait_for_screen(
        |s| input_line(s).contains("hello"),
        "hello on the input line",
    );
    assert_eq!(
        input_line(&screen),
        "hello",
        "the typed text must be on the input line exactly once; the screen:\n{screen}"
    );
    assert!(!screen.contains("helx"), "helx still shown:\n{screen}");

    tmux.send_key("Enter");
    observer.expect("tom: hello");
    let seen = observer.visible();
    assert!(has_line(&seen, "tom: hello"), "observer saw: {seen:?}");
    assert!(
        !seen.contains("helx") && !seen.contains("hel\x7f"),
        "the erased character reached the room: {seen:?}"
    );

    let screen = tmux.wait_for_screen(
        |s| count_lines(s, "tom: hello") > 0,
        "the room's tom: hello on the client",
    );
    assert_eq!(
        count_lines(&screen, "tom: hello"),
        1,
        "tom: hello must be shown once:\n{screen}"
    );
    if kind.tavern_echoes() {
        // tavern takes the submitted input off the screen; the room's line
        // shows it.
        assert_eq!(
            count_lines(&screen, "hello"),
            0,
            "the submitted input was left on the screen:\n{screen}"
        );
    }
}

#[test]
fn netkit_telnet_types_a_name_and_an_edited_line_and_the_room_sees_it_exactly() {
    an_edited_line_reaches_the_room_exactly(Kind::Netkit, "netkit-edit");
}

#[test]
fn inetutils_telnet_types_a_name_and_an_edited_line_and_the_room_sees_it_exactly() {
    an_edited_line_reaches_the_room_exactly(Kind::Inetutils, "inetutils-edit");
}

#[test]
fn tintin_types_a_name_and_an_edited_line_and_the_room_sees_it_exactly() {
    an_edited_line_reaches_the_room_exactly(Kind::TinTin, "tintin-edit");
}

/// Sign on as ann, /who, /nick annie, a chat line from the observer, /quit.
fn a_session_with_who_nick_and_quit(kind: Kind, test: &str) {
    let server = TestServer::start();
    let mut observer = Client::sign_on(server.addr, "watcher");
    let tmux = Tmux::start(test, &kind.command_line(server.addr));
    sign_on(&tmux, &mut observer, "ann");

    enter_line(&tmux, "/who");
    tmux.wait_for_screen(
        |s| {
            let lines = lines(s);
            lines.contains(&"*** In lobby: 2 people")
                && lines.iter().any(|l| l.starts_with("***   ann "))
                && lines.iter().any(|l| l.starts_with("***   watcher "))
        },
        "/who listing ann and watcher",
    );

    enter_line(&tmux, "/nick annie");
    observer.expect("ann is now known as annie");
    tmux.wait_for_screen(
        |s| count_lines(s, "*** ann is now known as annie") == 1,
        "the nick change notice",
    );
    let escapes = tmux.capture_escapes();
    for (line, part) in [
        ("Welcome, ann!", "***"),
        ("is now known as", "***"),
        ("is now known as", "annie"),
    ] {
        assert!(
            foreground_of(&escapes, line, part).is_some(),
            "{part:?} on the {line:?} line is not colored; the screen:\n{escapes}"
        );
    }

    observer.send_line("hi ann");
    tmux.wait_for_screen(
        |s| count_lines(s, "watcher: hi ann") == 1,
        "the observer's chat line",
    );
    let escapes = tmux.capture_escapes();
    assert!(
        foreground_of(&escapes, "watcher: hi ann", "watcher").is_some(),
        "the chat line's nick is not colored; the screen:\n{escapes}"
    );
    assert_eq!(
        foreground_of(&escapes, "watcher: hi ann", ": hi ann"),
        None,
        "the chat text is not in the default color; the screen:\n{escapes}"
    );

    enter_line(&tmux, "/quit bye");
    tmux.wait_for_screen(
        |s| s.contains("*** Goodbye!") && s.contains(kind.closed_message()),
        "the goodbye and the client's closed-connection message",
    );
    observer.expect("annie has quit (bye)");
    // Everything the room manager sent before its answer to /who has arrived
    // once the answer has.
    observer.send_line("/who");
    observer.expect("In lobby: 1 person");
    let seen = observer.visible();
    assert_eq!(
        seen.matches("annie has quit (bye)").count(),
        1,
        "observer saw: {seen:?}"
    );
}

#[test]
fn netkit_telnet_session_with_who_nick_and_quit_shows_colored_notices() {
    a_session_with_who_nick_and_quit(Kind::Netkit, "netkit-session");
}

#[test]
fn tintin_session_with_who_nick_and_quit_shows_colored_notices() {
    a_session_with_who_nick_and_quit(Kind::TinTin, "tintin-session");
}

#[test]
fn a_message_arriving_mid_typing_does_not_mangle_the_half_typed_line() {
    let server = TestServer::start();
    let mut observer = Client::sign_on(server.addr, "watcher");
    let tmux = Tmux::start("mid-typing", &Kind::Netkit.command_line(server.addr));
    sign_on(&tmux, &mut observer, "tom");

    tmux.type_and_see("half typ", "half typ");
    observer.send_line("interrupting");
    // Waits for the redraw too: the line, then something under it.
    let screen = tmux.wait_for_screen(
        |s| {
            lines(s).iter().any(|l| l.contains("watcher: interrupting"))
                && !input_line(s).contains("watcher: interrupting")
        },
        "the observer's line above the half-typed one",
    );
    let shown: Vec<&str> = lines(&screen)
        .into_iter()
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        shown.last(),
        Some(&"half typ"),
        "the half-typed line is not redrawn intact:\n{screen}"
    );
    assert!(
        shown[shown.len() - 2].contains("watcher: interrupting"),
        "the message is not right above the half-typed line:\n{screen}"
    );

    tmux.type_and_see("ed", "half typed");
    tmux.send_key("Enter");
    observer.expect("tom: half typed");
    assert!(has_line(&observer.visible(), "tom: half typed"));
}

#[test]
fn a_wide_character_and_a_combining_sequence_are_each_erased_whole_by_one_backspace() {
    let server = TestServer::start();
    let mut observer = Client::sign_on(server.addr, "watcher");
    let tmux = Tmux::start("wide", &Kind::Netkit.command_line(server.addr));
    sign_on(&tmux, &mut observer, "tom");

    // 你 takes two columns: one BSpace erases both.
    tmux.type_and_see("a你", "a你");
    tmux.send_key("BSpace");
    tmux.wait_for_screen(|s| input_line(s) == "a", "a after erasing 你");
    // e + U+0301 COMBINING ACUTE is one grapheme in one column.
    tmux.type_and_see("e\u{301}", "ae\u{301}");
    tmux.send_key("BSpace");
    tmux.wait_for_screen(|s| input_line(s) == "a", "a after erasing e\u{301}");
    tmux.type_and_see("b", "ab");
    tmux.send_key("Enter");

    observer.expect("tom: ab");
    let seen = observer.visible();
    assert!(has_line(&seen, "tom: ab"), "observer saw: {seen:?}");
    assert!(
        !seen.contains('你') && !seen.contains('\u{301}'),
        "an erased character reached the room: {seen:?}"
    );
}

/// Backspacing from the second row of a wrapped line back to the first.
///
/// Regression test: with 101 characters typed in a 100-column window, the
/// first BSpace used to erase with `\b \b`, leaving the cursor at the start
/// of the second row while the editor assumed it sat at the end of the first;
/// the second BSpace then redrew from the wrong row and left a stale row of
/// 100 characters on the screen.
#[test]
fn backspacing_back_across_a_wrapped_row_leaves_no_stale_row() {
    let server = TestServer::start();
    let mut observer = Client::sign_on(server.addr, "watcher");
    // Wide enough that tom's line reaches the watcher on one row.
    observer.report_width(200);
    let tmux = Tmux::start("wrap", &Kind::Netkit.command_line(server.addr));
    sign_on(&tmux, &mut observer, "tom");
    let full_row = "x".repeat(100);
    let shorter = "x".repeat(99);

    tmux.send_keys(&"x".repeat(101));
    tmux.wait_for_screen(
        |s| count_lines(s, &full_row) == 1 && input_line(s) == "x",
        "101 characters wrapped onto a second row",
    );
    tmux.send_key("BSpace");
    tmux.wait_for_screen(
        |s| input_line(s) == full_row,
        "the second row emptied by BSpace",
    );
    tmux.send_key("BSpace");
    let screen = tmux.wait_for_screen(
        |s| count_lines(s, &shorter) == 1,
        "99 characters after the second BSpace",
    );
    assert_eq!(
        count_lines(&screen, &full_row),
        0,
        "a stale row is left above the input line:\n{screen}"
    );

    tmux.send_key("Enter");
    observer.expect(&format!("tom: {shorter}"));
    // "tom: " and 99 x's take 104 columns, wider than the window: tavern
    // wraps the room's line at the width telnet reported (NAWS, 100). The
    // 99 x's are one word wider than a continuation row (100 columns less
    // the 5 of the indent under the text), so it is broken where it starts:
    // the first row filled to 100 columns with 95 x's, the other 4 on a
    // second row indented by 5 spaces.
    let first = format!("tom: {}", "x".repeat(95));
    let rest = format!("{}{}", " ".repeat(5), "x".repeat(4));
    let screen = tmux.wait_for_screen(
        |s| {
            let lines = lines(s);
            lines
                .iter()
                .rposition(|l| l.starts_with("tom: xxx"))
                .and_then(|at| lines.get(at + 1))
                .is_some_and(|next| !next.is_empty())
        },
        "the room's line and the row after it",
    );
    assert_eq!(
        rows_from(&screen, "tom: xxx", 2),
        [first.as_str(), rest.as_str()],
        "the room's line is not wrapped at 100 columns; the screen:\n{screen}"
    );
    assert!(
        !lines(&screen)
            .iter()
            .any(|l| *l == full_row || *l == shorter),
        "typed text left on the screen after Enter:\n{screen}"
    );
}

/// `count` words `stem01`, `stem02`... separated by single spaces.
fn numbered_words(stem: &str, count: usize) -> String {
    (1..=count)
        .map(|i| format!("{stem}{i:02}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The rows `prefix` + `text` (ASCII, single spaces, no word wider than a
/// row) takes when wrapped greedily at spaces to `width` columns, the
/// continuation rows indented by the prefix's width: as many words on each
/// row as fit, the space at each break dropped.
fn wrapped_rows(prefix: &str, text: &str, width: usize) -> Vec<String> {
    let indent = " ".repeat(prefix.len());
    let mut rows = vec![prefix.to_owned()];
    for word in text.split(' ') {
        let row = rows.last_mut().expect("one row at least");
        let fresh = row.len() == prefix.len();
        if fresh {
            row.push_str(word);
        } else if row.len() + 1 + word.len() <= width {
            row.push(' ');
            row.push_str(word);
        } else {
            rows.push(format!("{indent}{word}"));
        }
    }
    for row in &rows {
        assert!(row.len() <= width, "a word wider than a row: {row:?}");
    }
    rows
}

/// The lines of `screen` from the one starting with `first` on, as many as
/// `count`, without trailing blanks.
fn rows_from<'a>(screen: &'a str, first: &str, count: usize) -> Vec<&'a str> {
    let lines = lines(screen);
    let start = lines
        .iter()
        .rposition(|line| line.starts_with(first))
        .unwrap_or_else(|| panic!("no line starts with {first:?}:\n{screen}"));
    lines[start..].iter().take(count).copied().collect()
}

/// The line of `screen` TinTin++'s `#session` prints for session `s`
/// connected to `addr`, e.g.
/// `s    127.0.0.1:40123 (ats)    (mccp 2)`.
fn tintin_session_line(screen: &str, addr: SocketAddr) -> Option<&str> {
    let target = format!(" {addr} ");
    lines(screen)
        .into_iter()
        .find(|line| line.starts_with("s ") && line.contains(&target))
}

/// TinTin++ as a MUD client should be met: tavern learns its name, terminal
/// type and MTTS bits (TTYPE cycled three times), its window (NAWS), UTF-8
/// (CHARSET), and it agrees to GMCP and MCCP2. Chat lines wider than its
/// window arrive wrapped by tavern at word boundaries, continuation rows
/// indented under the text; after a resize, at the new width.
#[test]
fn tintin_negotiates_mtts_naws_charset_gmcp_and_mccp2_and_lines_wrap_at_its_width() {
    let server = TestServer::start();
    let mut observer = Client::sign_on(server.addr, "watcher");
    let tmux = Tmux::start_tintin("tintin-negotiation", server.addr, TINTIN_GMCP_SETUP);
    sign_on(&tmux, &mut observer, "tin");
    // What TinTin++ reports as its terminal type: $TERM inside tmux.
    let terminal = tmux.run(&["show-options", "-gv", "default-terminal"]);
    let terminal = terminal.trim_end();

    enter_line(&tmux, "/client");
    let expected = [
        "*** Your client, as tavern sees it:".to_owned(),
        "***   client: TINTIN++".to_owned(),
        format!("***   terminal type: {terminal}"),
        "***   MTTS: 271 (ANSI, VT100, UTF-8, 256 colors, truecolor)".to_owned(),
        format!("***   window: {COLUMNS}x{ROWS} (lines wrap at {COLUMNS})"),
        "***   charset: UTF-8 (agreed by CHARSET)".to_owned(),
        "***   colors: truecolor (24-bit)".to_owned(),
        "***   editing: your client edits its own lines".to_owned(),
        "***   GMCP: on (all packages)".to_owned(),
        "***   prompts end with: IAC EOR".to_owned(),
    ];
    let screen = tmux.wait_for_history(
        |s| lines(s).contains(&"***   prompts end with: IAC EOR"),
        "the end of /client's answer",
    );
    for line in &expected {
        assert_eq!(
            count_lines(&screen, line),
            1,
            "/client must show {line:?} once; the screen:\n{screen}"
        );
    }
    assert!(
        lines(&screen)
            .iter()
            .any(|l| l.starts_with("***   compression: MCCP2 on (")),
        "/client must show MCCP2 on; the screen:\n{screen}"
    );

    // TinTin++'s own view: its session list marks a compressed connection.
    enter_line(&tmux, "#session");
    let screen = tmux.wait_for_history(
        |s| tintin_session_line(s, server.addr).is_some(),
        "TinTin++'s session list",
    );
    let session = tintin_session_line(&screen, server.addr).expect("just seen");
    assert!(
        session.contains("(mccp 2)"),
        "TinTin++ does not list its session as compressed: {session:?}"
    );

    // 9 + 146 columns: the first row ends after word13 at column 99 (word14
    // would reach 106); the second row holds word14..word21 under the text.
    let width: usize = COLUMNS.parse().expect("a number");
    let text = numbered_words("word", 21);
    let rows = wrapped_rows("watcher: ", &text, width);
    assert_eq!(
        rows.len(),
        2,
        "the test's line must take two rows: {rows:?}"
    );
    observer.send_line(&text);
    let last_word = text.rsplit(' ').next().expect("words");
    let screen = tmux.wait_for_history(
        |s| lines(s).iter().any(|l| l.ends_with(last_word)),
        "the observer's long line",
    );
    assert_eq!(
        rows_from(&screen, "watcher: word01 ", rows.len()),
        rows,
        "the line is not wrapped at {width} columns at a word boundary, \
         continuation indented under the text; the screen:\n{screen}"
    );
    let gmcp = format!(
        r#"GMCP> Comm.Channel.Text {{"channel":"lobby","talker":"watcher","text":"watcher: {text}"}}"#
    );
    tmux.wait_for_history(
        |s| lines(s).contains(&gmcp.as_str()),
        "the line as GMCP Comm.Channel.Text",
    );

    // A narrower window: TinTin++ sends NAWS again, up to about 200 ms
    // after the resize (it checks for one every 10 of its 10 ms pulses), so a
    // /client typed at once may still be answered with the old width: ask
    // until tavern has the new one.
    tmux.run(&["resize-window", "-t", SESSION, "-x", "60"]);
    let narrow = format!("***   window: 60x{ROWS} (lines wrap at 60)");
    let start = Instant::now();
    loop {
        let answers = count_prefixed(&tmux.capture_history(), "***   prompts end with: ");
        enter_line(&tmux, "/client");
        let screen = tmux.wait_for_history(
            |s| count_prefixed(s, "***   prompts end with: ") > answers,
            "an answer to /client",
        );
        let window = lines(&screen)
            .into_iter()
            .rfind(|l| l.starts_with("***   window: "))
            .expect("just answered");
        if window == narrow {
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "tavern never saw the new width; the screen:\n{screen}"
        );
    }
    let text = numbered_words("again", 18);
    let rows = wrapped_rows("watcher: ", &text, 60);
    assert_eq!(
        rows.len(),
        3,
        "the test's line must take three rows: {rows:?}"
    );
    observer.send_line(&text);
    let last_word = text.rsplit(' ').next().expect("words");
    let screen = tmux.wait_for_history(
        |s| lines(s).iter().any(|l| l.ends_with(last_word)),
        "the observer's second long line",
    );
    assert_eq!(
        rows_from(&screen, "watcher: again01 ", rows.len()),
        rows,
        "the line is not wrapped at the new width of 60; the screen:\n{screen}"
    );
}

/// The screen helpers' own logic, without any client.
#[test]
fn the_color_reader_carries_sgr_state_across_lines_as_tmux_captures_do() {
    let escapes = "plain \x1b[36m*** info\n*** still cyan\x1b[1m\x1b[38;5;208mnick\x1b[0m\x1b[48;5;31m: text\n\x1b[1;94mann\x1b[39m: hi";
    assert_eq!(foreground_of(escapes, "plain", "plain"), None);
    assert_eq!(
        foreground_of(escapes, "plain", "***").as_deref(),
        Some("36")
    );
    assert_eq!(
        foreground_of(escapes, "still", "***").as_deref(),
        Some("36")
    );
    assert_eq!(
        foreground_of(escapes, "still", "nick").as_deref(),
        Some("38;5;208")
    );
    assert_eq!(foreground_of(escapes, "still", ": text"), None);
    assert_eq!(
        foreground_of(escapes, "ann: hi", "ann").as_deref(),
        Some("94")
    );
    assert_eq!(foreground_of(escapes, "ann: hi", ": hi"), None);
    assert_eq!(input_line("a\nb  \n\n\n"), "b");
    assert_eq!(numbered_words("w", 3), "w01 w02 w03");
    assert_eq!(
        wrapped_rows("ann: ", "aa bb cc", 10),
        ["ann: aa bb", "     cc"]
    );
    assert_eq!(
        rows_from("x\nann: a \n  b\nc\n", "ann:", 2),
        ["ann: a", "  b"]
    );
}

/// A line with UTF-8 characters one of whose bytes is 0x9D: 李 (e6 9d 8e)
/// and ŝ (c5 9d). A telnet client that clears the top bit of each typed
/// byte before comparing it with its escape key `^]` (0x1D) takes them for
/// that key unless it transmits in binary (RFC 856).
const EIGHT_BIT_LINE: &str = "李雷 ŝ";

/// Whether a telnet client's command prompt is on the screen: inetutils'
/// `telnet>`, netkit's `telnet-ssl>`, busybox's "Console escape".
fn in_command_mode(screen: &str) -> bool {
    lines(screen).iter().any(|line| {
        line.starts_with("telnet>")
            || line.starts_with("telnet-ssl>")
            || line.contains("Console escape")
    })
}

/// Types [`EIGHT_BIT_LINE`] and Enter: the client stays out of its command
/// mode, shows the line as typed, and the room (and the client) see it
/// intact.
fn an_eight_bit_line_arrives_intact(kind: Kind, test: &str) {
    let server = TestServer::start();
    let mut observer = Client::sign_on(server.addr, "watcher");
    let mut command = kind.command_line(server.addr);
    if kind == Kind::Netkit {
        // netkit telnet clears the top bit before comparing a typed byte
        // with its escape key whatever is negotiated (its telsnd strips
        // unconditionally; measured: DO and WILL BINARY agreed, and `-8`,
        // still drop 李 into `telnet-ssl>`). No server can help it; `-E`
        // (no escape key) is the user's way out, and the README says so.
        let (ip, port) = (server.addr.ip(), server.addr.port());
        let (program, package) = kind.program();
        command = format!("{} -E {ip} {port}", require(program, package).display());
    }
    let tmux = Tmux::start(test, &command);
    sign_on(&tmux, &mut observer, "tom");

    tmux.send_keys(EIGHT_BIT_LINE);
    let screen = tmux.wait_for_screen(
        |s| input_line(s) == EIGHT_BIT_LINE || in_command_mode(s),
        &format!("{EIGHT_BIT_LINE:?} on the input line"),
    );
    assert!(
        !in_command_mode(&screen),
        "{kind:?} went into its command mode on typing {EIGHT_BIT_LINE:?}:\n{screen}"
    );
    tmux.send_key("Enter");
    let said = format!("tom: {EIGHT_BIT_LINE}");
    observer.expect(&said);
    let seen = observer.visible();
    assert!(has_line(&seen, &said), "observer saw: {seen:?}");
    let screen = tmux.wait_for_screen(
        |s| count_lines(s, &said) > 0 || in_command_mode(s),
        "the room's line on the client",
    );
    assert!(!in_command_mode(&screen), "command mode:\n{screen}");
    assert_eq!(count_lines(&screen, &said), 1, "{screen}");
}

#[test]
fn inetutils_telnet_sends_utf8_with_its_escape_byte_intact() {
    an_eight_bit_line_arrives_intact(Kind::Inetutils, "inetutils-8bit");
}

#[test]
fn netkit_telnet_without_its_escape_key_sends_utf8_intact() {
    an_eight_bit_line_arrives_intact(Kind::Netkit, "netkit-8bit");
}

#[test]
fn busybox_telnet_sends_utf8_with_an_escape_byte_intact() {
    an_eight_bit_line_arrives_intact(Kind::Busybox, "busybox-8bit");
}

#[test]
fn plink_sends_utf8_with_an_escape_byte_intact() {
    an_eight_bit_line_arrives_intact(Kind::Plink, "plink-8bit");
}

#[test]
fn tintin_sends_utf8_with_an_escape_byte_intact() {
    an_eight_bit_line_arrives_intact(Kind::TinTin, "tintin-8bit");
}

/// A MUD client signs on as tom, chats, asks `who` in the form `who`
/// (the one that client passes on to tavern), and quits with `quit`.
fn a_mud_client_signs_on_chats_asks_who_and_quits(
    tmux: &Tmux,
    observer: &mut Client,
    who: &str,
    quit: &str,
) {
    tmux.wait_for_screen(|s| s.contains("Nickname:"), "the nickname prompt");
    tmux.send_keys("tom");
    tmux.send_key("Enter");
    observer.expect("tom has joined");
    tmux.wait_for_screen(|s| s.contains("Welcome, tom!"), "the welcome");

    tmux.send_keys("hello there");
    tmux.send_key("Enter");
    observer.expect("tom: hello there");
    tmux.wait_for_screen(|s| s.contains("tom: hello there"), "tom's own line");

    observer.send_line("hi tom");
    tmux.wait_for_screen(|s| s.contains("watcher: hi tom"), "the observer's line");

    tmux.send_keys(who);
    tmux.send_key("Enter");
    tmux.wait_for_screen(
        |s| {
            s.contains("*** In lobby: 2 people")
                && s.lines().any(|l| l.contains("***   tom "))
                && s.lines().any(|l| l.contains("***   watcher "))
        },
        &format!("{who} listing tom and watcher"),
    );

    tmux.send_keys(quit);
    tmux.send_key("Enter");
    observer.expect("tom has quit (bye)");
    tmux.wait_for_screen(|s| s.contains("*** Goodbye!"), "the goodbye");
}

/// Debian's TinyFugue (`tf`, 4.0s1) runs a typed `/who` itself (`% who: no
/// such command or macro`) and sends `//who` as `/who`; tavern's `.who` it
/// sends as typed. It refuses TTYPE but agrees to EOR (and MCCP2), which no
/// telnet terminal does: tavern takes it for a MUD client, leaves its input
/// line to it (no echo: `tom: hello there` arrives alone on its row, not
/// after tavern's copy of what was typed) and writes every hint in the dot
/// form, banner and `/help` included (the room's welcome line, which the
/// room manager writes for everyone, still says `/help`; the notice before
/// it says what to type).
#[test]
fn tinyfugue_signs_on_chats_and_reaches_who_and_quit_with_a_dot_or_two_slashes() {
    let server = TestServer::start();
    let mut observer = Client::sign_on(server.addr, "watcher");
    let tf = require("tf", "tf");
    // `-n`: no world from a configuration file; the address is the world.
    let command = format!(
        "{} -n {} {}",
        tf.display(),
        server.addr.ip(),
        server.addr.port()
    );
    let tmux = Tmux::start("tf-session", &command);
    tmux.wait_for_screen(
        |s| s.contains("Nickname:") && s.contains("type .help to list the commands"),
        "the banner's hint in the dot form, then the nickname prompt",
    );
    tmux.send_keys("tom");
    tmux.send_key("Enter");
    observer.expect("tom has joined");
    tmux.wait_for_screen(
        |s| {
            s.contains("Welcome, tom!")
                && s.contains("type tavern's with a dot (.help, .who, .quit) or with //.")
        },
        "the welcome and the dot-form notice",
    );

    tmux.send_keys("hello there");
    tmux.send_key("Enter");
    observer.expect("tom: hello there");
    let screen = tmux.wait_for_screen(|s| s.contains("tom: hello there"), "tom's own line");
    // Above tf's status line: what the server sent (below it, tf's input
    // window keeps the lines typed).
    let output = screen
        .split("\n_________(")
        .next()
        .expect("split gives one part at least");
    assert!(
        has_line(output, "tom: hello there") && count_prefixed(output, "hello there") == 0,
        "tavern echoed what tf typed; the screen:\n{screen}"
    );

    tmux.send_keys(".help");
    tmux.send_key("Enter");
    let screen = tmux.wait_for_screen(|s| s.contains("***   .who"), "/help in the dot form");
    assert!(
        !screen.contains("***   /who"),
        "/help in the slash form; the screen:\n{screen}"
    );

    tmux.send_keys(".who");
    tmux.send_key("Enter");
    tmux.wait_for_screen(
        |s| {
            s.contains("*** In lobby: 2 people")
                && s.lines().any(|l| l.contains("***   tom "))
                && s.lines().any(|l| l.contains("***   watcher "))
        },
        ".who listing tom and watcher",
    );
    tmux.send_keys(".quit bye");
    tmux.send_key("Enter");
    observer.expect("tom has quit (bye)");
    tmux.wait_for_screen(|s| s.contains("*** Goodbye!"), "the goodbye");
    drop(tmux);

    let mut observer = Client::sign_on(server.addr, "watcher2");
    let tmux = Tmux::start("tf-session-slashes", &command);
    tmux.wait_for_screen(|s| s.contains("Nickname:"), "the nickname prompt");
    tmux.send_keys("tom");
    tmux.send_key("Enter");
    observer.expect("tom has joined");
    tmux.send_keys("/who");
    tmux.send_key("Enter");
    tmux.wait_for_screen(
        |s| s.contains("% who: no such command or macro"),
        "TinyFugue's own answer to /who",
    );
    tmux.send_keys("//who");
    tmux.send_key("Enter");
    // watcher, watcher2 and tom.
    tmux.wait_for_screen(|s| s.contains("*** In lobby: 3 people"), "//who's answer");
    tmux.send_keys("//quit bye");
    tmux.send_key("Enter");
    observer.expect("tom has quit (bye)");
}

/// KBtin's own prefix is `#`, as TinTin++'s is: `/who` reaches tavern.
#[test]
fn kbtin_signs_on_chats_asks_who_and_quits_with_a_slash() {
    let server = TestServer::start();
    let mut observer = Client::sign_on(server.addr, "watcher");
    let kbtin = require("kbtin", "kbtin");
    // KBtin reads its arguments as script files: the session is started
    // by one.
    let scratch = ScratchDir::create("kbtin-session");
    let (ip, port) = (server.addr.ip(), server.addr.port());
    let script = scratch.write("session.tin", &format!("#session s {ip} {port}\n"));
    let script = script.display().to_string();
    assert!(!script.contains('\''), "unquotable path {script:?}");
    let command = format!("env LANG=C.UTF-8 {} '{script}'", kbtin.display());
    let mut tmux = Tmux::start("kbtin-session", &command);
    tmux.scratch = Some(scratch);
    a_mud_client_signs_on_chats_asks_who_and_quits(&tmux, &mut observer, "/who", "/quit bye");
}

/// inetutils telnet, the keys of issue 15: a refused nickname stays on the
/// screen with its reason under it; Up recalls the line sent before; Left
/// then typing inserts in the middle; ^C leaves the line with `^C` after it
/// and sends nothing.
#[test]
fn inetutils_telnet_recalls_with_up_inserts_after_left_completes_with_tab_and_keeps_a_refused_nickname()
 {
    let server = TestServer::start();
    let mut observer = Client::sign_on(server.addr, "watcher");
    let tmux = Tmux::start("inetutils-keys", &Kind::Inetutils.command_line(server.addr));
    tmux.wait_for_screen(|s| s.contains("Nickname:"), "the nickname prompt");
    tmux.type_and_see("two words", "Nickname: two words");
    tmux.send_key("Enter");
    let screen = tmux.wait_for_screen(
        |s| s.contains("*** a nickname cannot contain spaces."),
        "the refusal",
    );
    let shown = lines(&screen);
    let at = shown
        .iter()
        .position(|l| *l == "Nickname: two words")
        .unwrap_or_else(|| panic!("the refused name is gone:\n{screen}"));
    assert_eq!(
        shown.get(at + 1).copied(),
        Some("*** a nickname cannot contain spaces."),
        "{screen}"
    );
    sign_on(&tmux, &mut observer, "tom");

    enter_line(&tmux, "first line");
    observer.expect("tom: first line");
    tmux.send_key("Up");
    tmux.wait_for_screen(|s| input_line(s) == "first line", "the recalled line");
    tmux.send_keys("!");
    tmux.send_key("Enter");
    observer.expect("tom: first line!");

    tmux.type_and_see("helo", "helo");
    tmux.send_key("Left");
    tmux.send_keys("l");
    tmux.wait_for_screen(|s| input_line(s) == "hello", "the l inserted");
    tmux.send_key("Home");
    tmux.send_keys(">");
    tmux.wait_for_screen(|s| input_line(s) == ">hello", "the > at the start");
    tmux.send_key("Enter");
    observer.expect("tom: >hello");

    // Tab completes the watcher's nick, with `: ` at the line's start.
    tmux.type_and_see("wat", "wat");
    tmux.send_key("Tab");
    tmux.wait_for_screen(|s| input_line(s) == "watcher:", "the completed nick");
    tmux.send_keys("hi");
    tmux.send_key("Enter");
    observer.expect("tom: watcher: hi");

    tmux.type_and_see("never sent", "never sent");
    tmux.send_key("C-c");
    tmux.wait_for_screen(|s| has_line(s, "never sent^C"), "^C after the line");
    enter_line(&tmux, "after");
    observer.expect("tom: after");
    assert!(!observer.visible().contains("never sent"));
}
