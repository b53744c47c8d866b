//! Integration tests of `cairn-ipfs` against a real Kubo daemon (started by `cairn-testkit`).

use std::{io::Write, path::Path, time::Duration};

use cairn_ipfs::{AddOptions, ClientOptions, EntryKind, Error, KuboClient, Sha256Digest};
use cairn_testkit::Kubo;
use futures_util::StreamExt;

mod early_answers;

/// Deterministic pseudo-random bytes (xorshift), so a test file does not compress or dedupe.
pub(crate) fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub(crate) fn write_file(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::File::create(path).unwrap().write_all(bytes).unwrap();
}

async fn node() -> (Kubo, KuboClient) {
    let kubo = Kubo::start().await.expect("start Kubo (run `make setup` first)");
    let client = KuboClient::new(kubo.api_url()).unwrap();
    (kubo, client)
}

#[tokio::test]
async fn version_answers() {
    let (_kubo, client) = node().await;
    let version = client.version().await.unwrap();
    assert!(version.version.starts_with("0.43"), "{version:?}");
}

#[tokio::test]
async fn round_trip_of_a_64_mib_file_matches_the_cli_cid() {
    let (kubo, client) = node().await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("weights.bin");
    let bytes = pseudo_random(64 << 20, 7);
    write_file(&source, &bytes);

    let added = client.add_file(&source, AddOptions::default()).await.unwrap();
    assert_eq!(added.size, bytes.len() as u64);
    assert_eq!(added.sha256, Sha256Digest::of(&bytes));
    assert_eq!(added.path, "weights.bin");
    assert!(added.cid.as_str().starts_with("bafy"), "CIDv1 dag-pb root expected, got {}", added.cid);

    // The same CID as the reference CLI with the flags DESIGN.md names.
    let cli = kubo
        .cli()
        .unwrap()
        .args(["add", "-Q", "--only-hash", "--cid-version=1", "--raw-leaves"])
        .arg(&source)
        .output()
        .unwrap();
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    assert_eq!(String::from_utf8(cli.stdout).unwrap().trim(), added.cid.as_str());

    let stat = client.stat(&added.cid).await.unwrap();
    assert_eq!((stat.kind, stat.size), (EntryKind::File, bytes.len() as u64));
    assert!(client.is_pinned(&added.cid).await.unwrap(), "add pins by default");

    let copy = dir.path().join("copy.bin");
    let written = client.cat_to_file(added.cid.as_str(), added.sha256, &copy).await.unwrap();
    assert_eq!(written, bytes.len() as u64);
    assert!(std::fs::read(&copy).unwrap() == bytes, "fetched bytes differ from the source");
}

#[tokio::test]
async fn round_trip_of_a_directory_with_odd_names() {
    let (_kubo, client) = node().await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("model");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("config.json", br#"{"hidden_size": 384}"#.to_vec()),
        ("weights/model.safetensors", pseudo_random(3 << 20, 11)),
        ("weights/a+b c.txt", b"plus and space".to_vec()),
        ("tokenizer/\u{00e9}t\u{00e9}-\u{65e5}\u{672c}.json", b"unicode name".to_vec()),
        ("empty.txt", Vec::new()),
    ];
    for (name, bytes) in &files {
        write_file(&root.join(name), bytes);
    }
    std::fs::create_dir_all(root.join("empty-dir")).unwrap();

    let added = client.add_dir(&root, AddOptions::default()).await.unwrap();
    let mut expected: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    expected.sort_unstable();
    let got: Vec<&str> = added.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(got, expected);
    assert_eq!(client.stat(&added.cid).await.unwrap().kind, EntryKind::Directory);

    for (name, bytes) in &files {
        let entry = added.files.iter().find(|f| f.path == *name).unwrap();
        assert_eq!(entry.sha256, Sha256Digest::of(bytes), "{name}");
        let target = format!("{}/{name}", added.cid);
        let fetched = client.cat_bytes(&target, entry.sha256, 1 << 30).await.unwrap();
        assert!(fetched.as_ref() == bytes.as_slice(), "{name} differs");
        // A file fetched by its own CID gives the same bytes.
        let by_cid = client.cat_bytes(entry.cid.as_str(), entry.sha256, 1 << 30).await.unwrap();
        assert_eq!(by_cid, fetched);
    }
    let missing = format!("{}/no-such-file", added.cid);
    let err = client.cat_bytes(&missing, Sha256Digest::of(b""), 10).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn pin_and_unpin() {
    let (_kubo, client) = node().await;
    let added = client
        .add_bytes("note.txt", b"pin me".to_vec(), AddOptions { pin: false, ..AddOptions::default() })
        .await
        .unwrap();
    assert!(!client.is_pinned(&added.cid).await.unwrap());
    client.pin(&added.cid).await.unwrap();
    assert!(client.is_pinned(&added.cid).await.unwrap());
    client.unpin(&added.cid).await.unwrap();
    assert!(!client.is_pinned(&added.cid).await.unwrap());
    let err = client.unpin(&added.cid).await.unwrap_err();
    assert!(err.to_string().contains("not pinned"), "{err}");
}

#[tokio::test]
async fn digest_mismatch_is_a_typed_error_and_leaves_no_file() {
    let (_kubo, client) = node().await;
    let added = client.add_bytes("input.json", br#"["hello"]"#.to_vec(), AddOptions::default()).await.unwrap();
    let wrong = Sha256Digest::of(b"something else");

    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("input.json");
    let err = client.cat_to_file(added.cid.as_str(), wrong, &dest).await.unwrap_err();
    match &err {
        Error::DigestMismatch { expected, actual, bytes, .. } => {
            assert_eq!(*expected, wrong);
            assert_eq!(*actual, added.sha256);
            assert_eq!(*bytes, 9);
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    assert!(!dest.exists(), "a mismatching fetch must not leave a file");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no partial file left behind");

    // The stream form ends with the same error after handing over the bytes.
    let mut stream = client.cat(added.cid.as_str(), wrong).await.unwrap();
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item);
    }
    assert!(matches!(items.last(), Some(Err(Error::DigestMismatch { .. }))));

    // A size limit stops an oversized fetch.
    let err = client.cat_bytes(added.cid.as_str(), added.sha256, 4).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 4, .. }), "{err:?}");
}

#[tokio::test]
async fn bad_cids_are_rejected_with_the_cid_named() {
    let (_kubo, client) = node().await;
    // Clearly not a CID: rejected before any request.
    let err = client.cat_bytes("not-a-cid", Sha256Digest::of(b""), 10).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidCid { cid, .. } if cid == "not-a-cid"), "{err:?}");
    // Looks like one but does not decode: Kubo rejects it, and the error is still InvalidCid.
    let err = client.cat_bytes("bafyzzzzzzzzzzzzzzzz", Sha256Digest::of(b""), 10).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidCid { .. }), "{err:?}");
    // A valid CID this offline node does not have.
    let unknown: cairn_ipfs::Cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku".parse().unwrap();
    let err = client.cat_bytes(unknown.as_str(), Sha256Digest::of(b""), 10).await.unwrap_err();
    assert!(matches!(&err, Error::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn unreachable_daemon_names_the_url_and_the_fix() {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let client = KuboClient::new(&url).unwrap();
    let err = client.version().await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&url) && message.contains("make devnet"), "{message}");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    // A socket that accepts and never answers: the client must give up with a Timeout, not hang.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let options = ClientOptions { call_timeout: Duration::from_millis(300), ..ClientOptions::default() };
    let client = KuboClient::with_options(&url, options).unwrap();
    let err = client.version().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    hold.abort();
}

#[tokio::test]
async fn adding_a_missing_path_says_which() {
    let (_kubo, client) = node().await;
    let err = client.add_file(Path::new("/nonexistent/weights.bin"), AddOptions::default()).await.unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/weights.bin"), "{err}");
}

#[tokio::test]
async fn cat_bytes_takes_any_limit_without_overflow() {
    let (_kubo, client) = node().await;
    let bytes = pseudo_random(10_000, 21);
    let added = client.add_bytes("limits.bin", bytes.clone(), AddOptions::default()).await.unwrap();
    let size = bytes.len() as u64;
    // u64::MAX once overflowed `limit + 1` (a panic in debug builds; in release a request for 0 bytes and a
    // DigestMismatch blaming the content). Limits beyond i64::MAX are clamped to what Kubo takes.
    for limit in [u64::MAX, u64::MAX - 1, cairn_ipfs::KUBO_MAX_LENGTH + 1, cairn_ipfs::KUBO_MAX_LENGTH, size + 1, size]
    {
        let fetched = client.cat_bytes(added.cid.as_str(), added.sha256, limit).await;
        assert!(fetched.as_ref().is_ok_and(|b| b.as_ref() == bytes.as_slice()), "limit {limit}: {fetched:?}");
    }
    for limit in [size - 1, 0] {
        let err = client.cat_bytes(added.cid.as_str(), added.sha256, limit).await.unwrap_err();
        assert!(matches!(err, Error::TooLarge { limit: l, .. } if l == limit), "limit {limit}: {err:?}");
    }
}

#[tokio::test]
async fn concurrent_fetches_into_one_file_never_clobber_each_other() {
    let (_kubo, client) = node().await;
    let bytes = pseudo_random(8 << 20, 31);
    let added = client.add_bytes("shared.bin", bytes.clone(), AddOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("shared.bin");
    std::fs::write(&dest, b"an older version").unwrap();

    let fetch = || client.cat_to_file(added.cid.as_str(), added.sha256, &dest);
    let (a, b, c, d) = tokio::join!(fetch(), fetch(), fetch(), fetch());
    for result in [a, b, c, d] {
        assert_eq!(result.unwrap(), bytes.len() as u64);
    }
    assert!(std::fs::read(&dest).unwrap() == bytes, "the file is one whole, verified copy");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["shared.bin"], "no temporary file is left");
}

#[tokio::test]
async fn a_directory_is_published_with_its_hidden_entries_like_add_r_hidden() {
    let (kubo, client) = node().await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("model");
    for (name, bytes) in [
        ("config.json", b"{}".as_slice()),
        (".gitattributes", b"*.safetensors filter=lfs".as_slice()),
        (".cache/info.txt", b"hidden directory".as_slice()),
        ("weights/.keep", b"".as_slice()),
    ] {
        write_file(&root.join(name), bytes);
    }
    let added = client.add_dir(&root, AddOptions::default()).await.unwrap();
    let got: Vec<&str> = added.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(got, [".cache/info.txt", ".gitattributes", "config.json", "weights/.keep"]);

    let cli_cid = |hidden: bool| {
        let mut cli = kubo.cli().unwrap();
        cli.args(["add", "-r", "-Q", "--only-hash", "--cid-version=1", "--raw-leaves"]);
        if hidden {
            cli.arg("--hidden");
        }
        let out = cli.arg(&root).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(added.cid.as_str(), cli_cid(true), "the CID of `ipfs add -r --hidden`");
    assert_ne!(added.cid.as_str(), cli_cid(false), "plain `ipfs add -r` skips the dotfiles");
}

#[tokio::test]
async fn a_chosen_set_of_files_is_the_tree_of_a_folder_holding_only_them() {
    let (_kubo, client) = node().await;
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("model");
    let chosen = ["config.json", "model.safetensors", "1_Pooling/config.json", ".gitattributes"];
    for (i, name) in chosen.iter().enumerate() {
        write_file(&full.join(name), &pseudo_random(1000 + i * 700, i as u64));
    }
    // Left out of the chosen list: a VCS folder and a tool cache.
    write_file(&full.join(".git/HEAD"), b"ref: refs/heads/main\n");
    write_file(&full.join(".cache/huggingface/x.lock"), b"");
    // The same files alone in a folder of the same name, added whole.
    let only = dir.path().join("only/model");
    for name in chosen {
        write_file(&only.join(name), &std::fs::read(full.join(name)).unwrap());
    }
    let whole = client.add_dir(&only, AddOptions::default()).await.unwrap();

    let files: Vec<(String, std::path::PathBuf)> = chosen.iter().map(|n| (n.to_string(), full.join(n))).collect();
    let total: u64 = files.iter().map(|(_, p)| std::fs::metadata(p).unwrap().len()).sum();
    // Only-hash: the CIDs, nothing stored or pinned.
    let hashed = client
        .add_files("model", files.clone(), AddOptions { only_hash: true, ..AddOptions::default() }, None)
        .await
        .unwrap();
    assert_eq!(hashed.cid, whole.cid);
    let streamed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = streamed.clone();
    let progress: cairn_ipfs::AddProgress =
        std::sync::Arc::new(move |n| _ = counter.fetch_add(n, std::sync::atomic::Ordering::Relaxed));
    let added = client.add_files("model", files, AddOptions::default(), Some(progress)).await.unwrap();
    assert_eq!(added.cid, whole.cid, "the CID of a folder holding exactly the chosen files");
    assert_eq!(added.files, whole.files, "same paths, CIDs, sizes and sha256");
    assert_eq!(streamed.load(std::sync::atomic::Ordering::Relaxed), total, "progress saw every byte once");
    assert!(client.is_pinned(&added.cid).await.unwrap());
}
