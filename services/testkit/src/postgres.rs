//! A throwaway PostgreSQL cluster, from the distribution's server binaries (Debian's `postgresql` package).

use std::{
    net::{Ipv4Addr, TcpListener},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use crate::{Error, READY_TIMEOUT, Result, not_ready, wait_until};

/// Where Debian's `postgresql-<major>` packages install the server binaries, one folder per major version.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";
/// The binaries `Postgres` runs, checked up front so a partial install is named at once.
const TOOLS: [&str; 6] = ["initdb", "pg_ctl", "postgres", "pg_isready", "createdb", "psql"];
/// The superuser `initdb` creates (trust authentication: no password).
const USER: &str = "cairn";
/// The database `Postgres::start` creates.
const DATABASE: &str = "cairn";
/// The system account of Debian's package: `initdb` and `pg_ctl` refuse to run as root, so root runs them as it.
const SYSTEM_USER: &str = "postgres";
/// How often `start` picks another port when the one it picked was taken before the server bound it.
const PORT_ATTEMPTS: usize = 5;

/// A running PostgreSQL cluster of its own: a fresh data directory in a temporary folder, the server on a free
/// port of 127.0.0.1 (its unix socket inside that folder, so it never meets a system cluster), superuser `cairn`
/// with trust authentication, and an empty database `cairn`.
///
/// ```no_run
/// # async fn demo() -> Result<(), cairn_testkit::Error> {
/// let pg = cairn_testkit::Postgres::start().await?;
/// println!("{}", pg.url()); // postgres://cairn@127.0.0.1:PORT/cairn
/// let other = pg.fresh_database("second")?; // postgres://cairn@127.0.0.1:PORT/second
/// # Ok(()) }
/// ```
///
/// Dropping it stops the server (`pg_ctl stop -m immediate`) and deletes the folder; keep it in the test (a
/// `static` is never dropped, so its server would outlive the test binary) and share it between the cases of one
/// test through [`Postgres::fresh_database`]. Durability is off (`fsync`, `synchronous_commit`,
/// `full_page_writes`): the data is thrown away anyway.
///
/// Binaries come from the newest `/usr/lib/postgresql/<version>/bin` or from the folder in `CAIRN_PG_BIN`. When
/// the process runs as root, the server tools run as the `postgres` system user (`runuser -u postgres --`) and
/// the temporary folder, under `/tmp`, is handed to that user.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    as_system_user: bool,
    port: u16,
    url: String,
    // Last: the folder is removed after `Drop::drop` stopped the server.
    dir: tempfile::TempDir,
}

impl Postgres {
    /// Creates a cluster in a temporary folder, starts it on a free port and creates the database `cairn`.
    pub async fn start() -> Result<Self> {
        let bin = bin_dir()?;
        let as_system_user = effective_uid()? == 0;
        let mut builder = tempfile::Builder::new();
        builder.prefix("cairn-pg-");
        // As root the folder must be reachable by `postgres`: /tmp, not a TMPDIR that may sit in root's home.
        let dir = if as_system_user { builder.tempdir_in("/tmp") } else { builder.tempdir() }
            .map_err(|source| Error::Spawn { what: "mktemp".into(), source })?;
        if as_system_user {
            hand_to_system_user(dir.path())?;
        }
        // From here on, dropping `pg` stops whatever was started and removes the folder, whichever step fails.
        let mut pg = Self { bin, as_system_user, port: 0, url: String::new(), dir };
        let data = pg.data_dir();

        let mut initdb = pg.server_tool("initdb");
        initdb.arg("-D").arg(&data).args(["-U", USER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
        succeeded("initdb", output_of("initdb", initdb).await?)?;
        let conf = format!(
            "\n# cairn-testkit\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = {}\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
            conf_string(&pg.dir.path().to_string_lossy())
        );
        append(&data.join("postgresql.conf"), &conf)?;

        pg.port = pg.start_server().await?;
        pg.url = pg.database_url(DATABASE);
        let probe_url = pg.database_url("postgres");
        let port = pg.port;
        wait_until("postgres", || async {
            tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
                .await
                .map_err(|e| format!("connect 127.0.0.1:{port}: {e}"))?;
            let mut isready = Command::new(pg.bin.join("pg_isready"));
            isready.args(["-t", "5", "-d", &probe_url]);
            let output = output_of("pg_isready", isready).await.map_err(|e| e.to_string())?;
            if output.status.success() { Ok(()) } else { Err(pg.log_tail()) }
        })
        .await?;
        pg.createdb(DATABASE)?;
        Ok(pg)
    }

    /// Creates an empty database `name` in this cluster and returns its URL, so several suites share one cluster.
    ///
    /// `name`: 1–63 lowercase ASCII letters, digits or `_`, not starting with a digit (it goes into a URL as is).
    /// A name already taken is an error.
    pub fn fresh_database(&self, name: &str) -> Result<String> {
        if !valid_database_name(name) {
            return Err(Error::BadDatabaseName { name: name.to_owned() });
        }
        self.createdb(name)?;
        Ok(self.database_url(name))
    }

    /// URL of the database `cairn`: `postgres://cairn@127.0.0.1:PORT/cairn` (no password).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The TCP port the server listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The temporary folder (data directory `data/`, the server log `postgres.log`, the unix socket); removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The folder the PostgreSQL binaries were taken from.
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// A `psql` on `url` (any database of this cluster): no `.psqlrc`, unaligned tuples-only output, stops at the
    /// first error. Add `-c SQL` or `-f FILE`.
    pub fn psql(&self, url: &str) -> Command {
        let mut command = Command::new(self.bin.join("psql"));
        command.args(["-X", "-w", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url]);
        command
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let start = log.len().saturating_sub(4000);
        let start = (start..log.len()).find(|&i| log.is_char_boundary(i)).unwrap_or(log.len());
        format!("server log: {}", &log[start..])
    }

    fn database_url(&self, name: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    /// `pg_ctl start` on a free port, again on another one if the port was taken before the server bound it.
    async fn start_server(&self) -> Result<u16> {
        let mut attempt = 1;
        loop {
            let port = free_port()?;
            let log_before = std::fs::metadata(self.log_path()).map(|m| m.len() as usize).unwrap_or(0);
            let mut pg_ctl = self.server_tool("pg_ctl");
            pg_ctl.arg("start").arg("-D").arg(self.data_dir()).arg("-l").arg(self.log_path());
            pg_ctl.args(["-w", "-t", &READY_TIMEOUT.as_secs().to_string(), "-s", "-o", &format!("-p {port}")]);
            let output = output_of("pg_ctl start", pg_ctl).await?;
            if output.status.success() {
                return Ok(port);
            }
            let log = std::fs::read(self.log_path()).unwrap_or_default();
            let this_try = String::from_utf8_lossy(log.get(log_before..).unwrap_or_default());
            if attempt < PORT_ATTEMPTS && this_try.contains("Address already in use") {
                attempt += 1;
                continue;
            }
            return Err(not_ready(
                "postgres",
                format!("pg_ctl start failed on port {port}: {}\nserver log: {this_try}", stderr_of(&output)),
            ));
        }
    }

    fn createdb(&self, name: &str) -> Result<()> {
        let output = Command::new(self.bin.join("createdb"))
            .args(["-w", "-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER, name])
            .stdin(Stdio::null())
            .output()
            .map_err(|source| Error::Spawn { what: self.bin.join("createdb").display().to_string(), source })?;
        succeeded(&format!("createdb {name}"), output).map(drop)
    }

    /// `initdb`/`pg_ctl`: run directly, or as the `postgres` system user when we are root (they refuse root).
    fn server_tool(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        let mut command = if self.as_system_user {
            let mut command = Command::new("runuser");
            command.args(["-u", SYSTEM_USER, "--"]).arg(path);
            command
        } else {
            Command::new(path)
        };
        // A working directory the system user can enter (not root's home or checkout).
        command.current_dir(self.dir.path());
        command
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data_dir();
        let pid_file = data.join("postmaster.pid");
        if !pid_file.exists() {
            return; // never started, or already stopped
        }
        let stopped = self
            .server_tool("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "-t", "30", "-s"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !stopped {
            // The first line of postmaster.pid is the postmaster's pid.
            let pid = std::fs::read_to_string(&pid_file).ok().and_then(|text| text.lines().next().map(str::to_owned));
            if let Some(pid) = pid.filter(|pid| pid.parse::<u32>().is_ok()) {
                let _ = Command::new("kill").args(["-KILL", &pid]).stderr(Stdio::null()).status();
            }
        }
    }
}

/// The folder holding the server binaries: `CAIRN_PG_BIN`, else the newest `/usr/lib/postgresql/<version>/bin`.
fn bin_dir() -> Result<PathBuf> {
    let dir = match std::env::var_os("CAIRN_PG_BIN") {
        Some(dir) => PathBuf::from(dir),
        None => newest_version_bin(Path::new(DEBIAN_ROOT))
            .unwrap_or_else(|| Path::new(DEBIAN_ROOT).join("<version>").join("bin")),
    };
    check_tools(&dir)?;
    Ok(dir)
}

/// `root/<version>/bin` of the highest version (`16` > `15` > `9.6`) holding `initdb`.
fn newest_version_bin(root: &Path) -> Option<PathBuf> {
    std::fs::read_dir(root)
        .ok()?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let version: Vec<u32> = name.split('.').map(str::parse).collect::<std::result::Result<_, _>>().ok()?;
            let bin = root.join(&name).join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin)
}

fn check_tools(dir: &Path) -> Result<()> {
    match TOOLS.into_iter().find(|tool| !dir.join(tool).exists()) {
        Some(tool) => Err(Error::PostgresMissing { tool, looked: dir.to_owned() }),
        None => Ok(()),
    }
}

fn valid_database_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A `postgresql.conf` string literal.
fn conf_string(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

/// A port of 127.0.0.1 free right now (the OS picks it; the listener is closed again for the server to bind).
fn free_port() -> Result<u16> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|source| Error::Spawn { what: "bind 127.0.0.1:0".into(), source })
}

fn effective_uid() -> Result<u32> {
    id(&["-u"])
}

/// Gives `dir` to the `postgres` system user (root only), so `initdb` run as it can create the cluster there.
fn hand_to_system_user(dir: &Path) -> Result<()> {
    let (uid, gid) = (id(&["-u", SYSTEM_USER])?, id(&["-g", SYSTEM_USER])?);
    std::os::unix::fs::chown(dir, Some(uid), Some(gid))
        .map_err(|source| Error::Spawn { what: format!("chown {SYSTEM_USER} {}", dir.display()), source })
}

/// `id ARGS` as a number.
fn id(args: &[&str]) -> Result<u32> {
    let what = format!("id {}", args.join(" "));
    let output =
        Command::new("id").args(args).output().map_err(|source| Error::Spawn { what: what.clone(), source })?;
    let text = String::from_utf8_lossy(&output.stdout);
    match text.trim().parse() {
        Ok(id) if output.status.success() => Ok(id),
        _ if args.len() > 1 => Err(Error::Failed {
            what,
            detail: format!(
                "{} (running as root, so initdb and pg_ctl must run as the `{SYSTEM_USER}` system user, which \
                 `apt-get install postgresql` creates)",
                stderr_of(&output)
            ),
        }),
        _ => Err(Error::Failed { what, detail: stderr_of(&output) }),
    }
}

fn append(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|source| Error::Spawn { what: format!("append to {}", path.display()), source })
}

/// Runs `command` to completion without blocking the runtime; `Err` only when it cannot be run.
async fn output_of(what: &str, command: Command) -> Result<Output> {
    let mut command = tokio::process::Command::from(command);
    command.stdin(Stdio::null());
    command.output().await.map_err(|source| Error::Spawn { what: what.to_owned(), source })
}

/// `output`, or `Error::Failed` with its output when it exited non-zero.
fn succeeded(what: &str, output: Output) -> Result<Output> {
    if output.status.success() {
        Ok(output)
    } else {
        Err(Error::Failed { what: what.to_owned(), detail: stderr_of(&output) })
    }
}

fn stderr_of(output: &Output) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&output.stderr), String::from_utf8_lossy(&output.stdout));
    format!("{} ({})", text.trim(), output.status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_newest_version_holding_initdb() {
        let root = tempfile::tempdir().unwrap();
        for (version, has_initdb) in [("9.6", true), ("15", true), ("16", true), ("17", false), ("common", true)] {
            let bin = root.path().join(version).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            if has_initdb {
                std::fs::write(bin.join("initdb"), "").unwrap();
            }
        }
        assert_eq!(newest_version_bin(root.path()), Some(root.path().join("16/bin")));
        assert_eq!(newest_version_bin(&root.path().join("absent")), None);
    }

    #[test]
    fn a_missing_binary_says_how_to_install_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("initdb"), "").unwrap();
        let message = check_tools(dir.path()).unwrap_err().to_string();
        assert!(message.contains("`pg_ctl`") && message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("CAIRN_PG_BIN"), "{message}");
    }

    #[test]
    fn database_names_fit_in_a_url_unquoted() {
        for good in ["cairn", "indexer_2", "_x", &"a".repeat(63)] {
            assert!(valid_database_name(good), "{good}");
        }
        for bad in ["", "2nd", "Upper", "with-dash", "a/b", "a b", &"a".repeat(64)] {
            assert!(!valid_database_name(bad), "{bad}");
        }
    }

    #[test]
    fn conf_strings_are_quoted() {
        assert_eq!(conf_string("/tmp/cairn-pg-x"), "'/tmp/cairn-pg-x'");
        assert_eq!(conf_string("it's\\"), "'it''s\\\\'");
    }
}
