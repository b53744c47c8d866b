//! A throwaway PostgreSQL cluster: answers on its URL, makes more databases, and leaves nothing behind.

use std::net::{Ipv4Addr, TcpStream};

use cairn_testkit::{Error, Postgres};

/// `psql -c sql` on `url`, its trimmed output; panics with psql's stderr when it fails.
fn query(pg: &Postgres, url: &str, sql: &str) -> String {
    let output = pg.psql(url).args(["-c", sql]).output().unwrap();
    assert!(output.status.success(), "psql {url} -c {sql}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn postgres_answers_on_its_url_and_is_gone_after_drop() {
    let pg = Postgres::start().await.unwrap();
    let port = pg.port();
    assert_eq!(pg.url(), format!("postgres://cairn@127.0.0.1:{port}/cairn"));
    assert_eq!(query(&pg, pg.url(), "select 1"), "1");
    assert_eq!(query(&pg, pg.url(), "select current_user || ' ' || current_database()"), "cairn cairn");
    query(&pg, pg.url(), "create table kept (n int); insert into kept values (7)");

    let second = pg.fresh_database("second").unwrap();
    assert_eq!(second, format!("postgres://cairn@127.0.0.1:{port}/second"));
    assert_eq!(query(&pg, &second, "select current_database()"), "second");
    assert_eq!(query(&pg, &second, "select count(*) from pg_tables where tablename = 'kept'"), "0", "empty");
    assert_eq!(query(&pg, pg.url(), "select n from kept"), "7", "the first database is untouched");
    assert!(matches!(pg.fresh_database("second"), Err(Error::Failed { .. })), "a name is used once");
    assert!(matches!(pg.fresh_database("Bad-Name"), Err(Error::BadDatabaseName { .. })));

    let dir = pg.dir().to_owned();
    assert!(dir.join("data/PG_VERSION").exists());
    assert!(dir.join(format!(".s.PGSQL.{port}")).exists(), "the unix socket lives in the temporary folder");
    drop(pg);
    assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(), "port {port} still accepts after drop");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[tokio::test]
async fn two_postgres_clusters_run_side_by_side_on_their_own_ports() {
    let (a, b) = tokio::join!(Postgres::start(), Postgres::start());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.port(), b.port());
    assert_ne!(a.dir(), b.dir());
    query(&a, a.url(), "create table only_in_a (n int)");
    assert_eq!(query(&b, b.url(), "select 1"), "1");
    assert_eq!(query(&b, b.url(), "select count(*) from pg_tables where tablename = 'only_in_a'"), "0");
}
