//! The model cache against a real Kubo: files fetched by CID and kept by sha256, refused when they do not
//! match, evicted least recently used but never while held, and still there (in order) after a restart.

use cairn_ipfs::{AddOptions, AddedFile, KuboClient};
use cairn_primitives::Sha256Digest;
use cairn_runner::{Error, cache::ModelCache};
use cairn_testkit::Kubo;

const SIZE: usize = 10_000;

async fn add(kubo: &KuboClient, fill: u8) -> AddedFile {
    kubo.add_bytes(&format!("file-{fill}"), vec![fill; SIZE], AddOptions::default()).await.unwrap()
}

/// Files in the cache directory (digest names and anything else, temporaries included).
fn listing(root: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn fetches_verified_files_and_serves_them_again() {
    let node = Kubo::start().await.unwrap();
    let kubo = KuboClient::new(node.api_url()).unwrap();
    let a = add(&kubo, 1).await;
    let root = tempfile::tempdir().unwrap();
    let cache = ModelCache::open(root.path(), 1 << 20).unwrap();

    let file = cache.fetch(&kubo, &a.cid.to_string(), a.sha256, a.size).await.unwrap();
    assert_eq!(std::fs::read(file.path()).unwrap(), vec![1; SIZE]);
    assert_eq!(file.path().file_name().unwrap().to_string_lossy(), a.sha256.to_hex());
    assert_eq!((file.digest(), file.size()), (a.sha256, a.size));
    let again = cache.fetch(&kubo, &a.cid.to_string(), a.sha256, a.size).await.unwrap();
    assert_eq!(again.path(), file.path());
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.files, stats.bytes), (1, 1, 1, SIZE as u64));

    // Kubo gone: the cached file still answers, from disk.
    drop(node);
    let reopened = ModelCache::open(root.path(), 1 << 20).unwrap();
    assert!(reopened.get(&a.sha256).is_some());
    assert!(reopened.fetch(&kubo, &a.cid.to_string(), a.sha256, a.size).await.is_ok());
    let missing = Sha256Digest::of(b"never added");
    assert!(matches!(reopened.fetch(&kubo, &a.cid.to_string(), missing, a.size).await, Err(Error::Ipfs(_))));
}

#[tokio::test]
async fn refuses_content_that_does_not_match_and_keeps_nothing() {
    let node = Kubo::start().await.unwrap();
    let kubo = KuboClient::new(node.api_url()).unwrap();
    let a = add(&kubo, 1).await;
    let b = add(&kubo, 2).await;
    let root = tempfile::tempdir().unwrap();
    let cache = ModelCache::open(root.path(), 1 << 20).unwrap();

    // A's bytes under B's digest (a manifest that lies, or a node that serves other bytes).
    let err = cache.fetch(&kubo, &a.cid.to_string(), b.sha256, a.size).await.unwrap_err();
    assert!(matches!(err, Error::Ipfs(cairn_ipfs::Error::DigestMismatch { .. })), "{err}");
    // More bytes than the manifest's size.
    let err = cache.fetch(&kubo, &a.cid.to_string(), a.sha256, a.size - 1).await.unwrap_err();
    assert!(matches!(err, Error::Ipfs(cairn_ipfs::Error::TooLarge { .. })), "{err}");
    assert_eq!(listing(root.path()), Vec::<String>::new(), "nothing kept, not even a temporary file");
    let stats = cache.stats();
    assert_eq!((stats.refused, stats.misses, stats.files, stats.bytes), (2, 0, 0, 0));
    // The refused fetches released their reservation: the right file still fits.
    assert!(cache.fetch(&kubo, &a.cid.to_string(), a.sha256, a.size).await.is_ok());
}

#[tokio::test]
async fn evicts_the_least_recently_used_never_a_held_file() {
    let node = Kubo::start().await.unwrap();
    let kubo = KuboClient::new(node.api_url()).unwrap();
    let (a, b, c, d) = (add(&kubo, 1).await, add(&kubo, 2).await, add(&kubo, 3).await, add(&kubo, 4).await);
    let root = tempfile::tempdir().unwrap();
    let limit = 2 * SIZE as u64 + SIZE as u64 / 2; // room for two files
    let cache = ModelCache::open(root.path(), limit).unwrap();
    let fetch = |f: &AddedFile| {
        let source = f.cid.to_string();
        let (cache, kubo, digest, size) = (&cache, &kubo, f.sha256, f.size);
        async move { cache.fetch(kubo, &source, digest, size).await }
    };

    drop(fetch(&a).await.unwrap());
    drop(fetch(&b).await.unwrap());
    assert!(cache.get(&a.sha256).is_some()); // A is now used more recently than B
    let held_c = fetch(&c).await.unwrap();
    assert!(cache.get(&b.sha256).is_none(), "B, the least recently used, made room for C");
    assert_eq!(listing(root.path()), {
        let mut v = vec![a.sha256.to_hex(), c.sha256.to_hex()];
        v.sort();
        v
    });
    assert_eq!(cache.stats().evicted, 1);

    // Held files are never evicted: with A and C both held there is no room for D, and nothing is deleted.
    let held_a = cache.get(&a.sha256).unwrap();
    let err = fetch(&d).await.unwrap_err();
    assert!(matches!(err, Error::CacheFull { held, .. } if held == 2 * SIZE as u64), "{err}");
    assert!(err.to_string().contains("raise the cache limit"), "{err}");
    assert_eq!(listing(root.path()).len(), 2);
    // Released, C (used before A) goes first.
    drop(held_c);
    fetch(&d).await.unwrap();
    assert!(cache.get(&c.sha256).is_none() && cache.get(&a.sha256).is_some());
    drop(held_a);

    // A file larger than the whole cache is refused before anything is downloaded or deleted.
    let err = cache.fetch(&kubo, &b.cid.to_string(), b.sha256, limit + 1).await;
    assert!(matches!(err, Err(Error::CacheFull { held: 0, .. })), "{err:?}");
    assert_eq!(listing(root.path()).len(), 2);
}

#[tokio::test]
async fn a_restart_keeps_the_order_of_use_and_removes_temporaries() {
    let node = Kubo::start().await.unwrap();
    let kubo = KuboClient::new(node.api_url()).unwrap();
    let (a, b) = (add(&kubo, 1).await, add(&kubo, 2).await);
    let root = tempfile::tempdir().unwrap();
    {
        let cache = ModelCache::open(root.path(), 1 << 20).unwrap();
        cache.fetch(&kubo, &b.cid.to_string(), b.sha256, b.size).await.unwrap();
        cache.fetch(&kubo, &a.cid.to_string(), a.sha256, a.size).await.unwrap();
        // B used last (modification times carry the order across the restart; make it unambiguous).
        std::thread::sleep(std::time::Duration::from_millis(20));
        cache.get(&b.sha256).unwrap();
    }
    // What a fetch killed mid-stream leaves behind.
    std::fs::write(root.path().join("sha256").join(format!(".{}.abc123.tmp", a.sha256.to_hex())), b"partial").unwrap();
    let cache = ModelCache::open(root.path(), SIZE as u64 + 1).unwrap();
    assert_eq!(
        listing(root.path()),
        vec![b.sha256.to_hex()],
        "A, used least recently, evicted to fit the smaller limit"
    );
    assert_eq!(cache.stats().files, 1);
}
