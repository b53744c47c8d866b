//! The reorg and crash suites against PostgreSQL (a throwaway cluster per test): the random reorg rounds,
//! the kill -9 rounds of the real binary, two writers on one database, and a database dropped under a
//! running follower.

use std::time::Duration;

use cairn_indexer::store::Store;
use cairn_testkit::{Postgres, TestProfile};

use crate::{
    Net,
    crash::kill_rounds,
    r#gen::{Gen, Rng},
    reorg::{Running, follower_at, random_rounds, test_options},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_reorgs_on_postgres_end_equal_to_a_clean_index() {
    let pg = Postgres::start().await.unwrap();
    let rounds = TestProfile::from_env().pick(5, 30);
    random_rounds(|name| pg.fresh_database(name).unwrap(), rounds).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_on_postgres_loses_and_repeats_nothing() {
    let pg = Postgres::start().await.unwrap();
    let rounds = TestProfile::from_env().pick(2, 10);
    kill_rounds(&pg.fresh_database("followed").unwrap(), &pg.fresh_database("clean").unwrap(), rounds).await;
}

#[tokio::test]
async fn a_second_writer_on_postgres_is_refused_until_the_first_lets_go() {
    let pg = Postgres::start().await.unwrap();
    let a = Store::open(pg.url()).await.unwrap();
    let b = Store::open(pg.url()).await.unwrap();
    let lock = a.try_writer_lock(None).await.unwrap();
    assert!(lock.is_some(), "the first writer takes the lock");
    assert!(b.try_writer_lock(None).await.unwrap().is_none(), "the second is refused");
    drop(lock);
    // The server frees the advisory lock when it sees the connection closed.
    let started = std::time::Instant::now();
    while b.try_writer_lock(None).await.unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(10), "the lock is never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_database_dropped_under_the_follower_is_reported_not_fatal() {
    let mut rng = Rng::seeded("dropped db");
    let pg = Postgres::start().await.unwrap();
    let net = Net::start().await;
    let actors = Gen::new(&net).await;
    let p = net.deployer.provider().clone();
    let db = pg.fresh_database("gone").unwrap();
    let (f, metrics) = follower_at(&net, net.anvil.url(), &db, test_options()).await;
    let running = Running::start(f, metrics.clone());
    running.caught_up(&p).await;

    let out = pg.psql(pg.url()).args(["-c", "DROP DATABASE gone WITH (FORCE)"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    actors.some_events(&mut rng).await;
    let started = std::time::Instant::now();
    while !metrics.last_error().is_some_and(|(_, e)| e.contains("does not exist")) {
        assert!(started.elapsed() < Duration::from_secs(30), "not reported: {:?}", metrics.last_error());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!running.is_finished(), "the follower keeps retrying");
    running.stop().await.unwrap();
    let err = Store::open(&db).await.unwrap_err();
    assert!(err.to_string().contains("\"gone\" does not exist"), "{err}");
}
