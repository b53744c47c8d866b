//! The Kubo RPC client: every call is an HTTP POST to `<url>/api/v0/<endpoint>`.

use std::time::Duration;

use serde::Deserialize;

use crate::{Cid, Error, Result, error::cid_path};

/// How long the client waits, and for what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// Time to open a TCP connection to Kubo.
    pub connect_timeout: Duration,
    /// Whole-request limit for short calls (version, pin, stat).
    pub call_timeout: Duration,
    /// Longest silence while streaming a large add or cat; a stream that keeps moving never times out.
    pub idle_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            call_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

/// A client of one Kubo node's RPC API.
#[derive(Debug, Clone)]
pub struct KuboClient {
    pub(crate) base: reqwest::Url,
    pub(crate) http: reqwest::Client,
    pub(crate) options: ClientOptions,
}

/// What `version` reports about the node.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KuboVersion {
    /// Kubo's version, e.g. `0.43.0`.
    pub version: String,
    /// The git commit it was built from (may be empty).
    #[serde(default)]
    pub commit: String,
    /// The repo format version.
    #[serde(default)]
    pub repo: String,
    /// OS and architecture.
    #[serde(default)]
    pub system: String,
    /// The Go version it was built with.
    #[serde(default)]
    pub golang: String,
}

/// Whether a CID names a file or a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A UnixFS file.
    File,
    /// A UnixFS directory.
    Directory,
}

/// What `stat` reports about a CID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidStat {
    /// The CID asked about.
    pub cid: Cid,
    /// File size in bytes (0 for a directory).
    pub size: u64,
    /// Size of the whole DAG, blocks and links included.
    pub cumulative_size: u64,
    /// File or directory.
    pub kind: EntryKind,
}

/// Kubo's JSON error body.
#[derive(Deserialize)]
struct KuboErrorBody {
    #[serde(rename = "Message")]
    message: String,
}

impl KuboClient {
    /// A client for the Kubo RPC API at `url` (e.g. `http://127.0.0.1:5001`) with default timeouts.
    pub fn new(url: &str) -> Result<Self> {
        Self::with_options(url, ClientOptions::default())
    }

    /// A client with explicit timeouts.
    pub fn with_options(url: &str, options: ClientOptions) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidUrl { url: url.to_owned(), reason: reason.to_owned() };
        let mut base = reqwest::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
        match base.scheme() {
            "http" => {}
            "https" => {
                return Err(invalid("https is not built in; reach Kubo over http on loopback or a tunnel"));
            }
            other => return Err(invalid(&format!("scheme `{other}` is not http"))),
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(invalid("no host"));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.idle_timeout)
            .build()
            .map_err(|e| invalid(&e.to_string()))?;
        Ok(Self { base, http, options })
    }

    /// The base URL of the RPC API.
    pub fn url(&self) -> &str {
        self.base.as_str()
    }

    /// Asks the node for its version; doubles as a health check.
    pub async fn version(&self) -> Result<KuboVersion> {
        let response = self.call("version", &[], None).await?;
        decode_json("version", response).await
    }

    /// Pins `cid` recursively, so Kubo's garbage collector keeps it.
    pub async fn pin(&self, cid: &Cid) -> Result<()> {
        self.call("pin/add", &[("arg", cid.as_str()), ("recursive", "true")], Some(cid.as_str())).await?;
        Ok(())
    }

    /// Removes a recursive pin of `cid`. Unpinning what is not pinned is an error from Kubo.
    pub async fn unpin(&self, cid: &Cid) -> Result<()> {
        self.call("pin/rm", &[("arg", cid.as_str())], Some(cid.as_str())).await?;
        Ok(())
    }

    /// Whether `cid` is pinned (recursively or directly).
    pub async fn is_pinned(&self, cid: &Cid) -> Result<bool> {
        match self.call("pin/ls", &[("arg", cid.as_str()), ("type", "all")], Some(cid.as_str())).await {
            Ok(_) => Ok(true),
            Err(Error::Kubo { message, .. }) if message.contains("not pinned") => Ok(false),
            Err(Error::NotFound { message, .. }) if message.contains("not pinned") => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Size and kind of the content behind `cid`.
    pub async fn stat(&self, cid: &Cid) -> Result<CidStat> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Stat {
            size: u64,
            cumulative_size: u64,
            #[serde(rename = "Type")]
            kind: String,
        }
        let arg = format!("/ipfs/{cid}");
        let response = self.call("files/stat", &[("arg", &arg)], Some(cid.as_str())).await?;
        let stat: Stat = decode_json("files/stat", response).await?;
        let kind = match stat.kind.as_str() {
            "file" => EntryKind::File,
            "directory" => EntryKind::Directory,
            other => {
                return Err(Error::UnexpectedResponse {
                    endpoint: "files/stat".into(),
                    reason: format!("unknown entry type `{other}`"),
                });
            }
        };
        Ok(CidStat { cid: cid.clone(), size: stat.size, cumulative_size: stat.cumulative_size, kind })
    }

    /// A short call: whole-request timeout, errors classified against `arg`.
    pub(crate) async fn call(
        &self,
        endpoint: &str,
        query: &[(&str, &str)],
        arg: Option<&str>,
    ) -> Result<reqwest::Response> {
        let request = self.request(endpoint, query).timeout(self.options.call_timeout);
        self.send(endpoint, request, arg, self.options.call_timeout).await
    }

    pub(crate) fn request(&self, endpoint: &str, query: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let url = self.base.join("api/v0/").and_then(|u| u.join(endpoint)).expect("static endpoint paths are valid");
        self.http.post(url).query(query)
    }

    /// Sends a request and turns transport failures and HTTP errors into typed errors.
    pub(crate) async fn send(
        &self,
        endpoint: &str,
        request: reqwest::RequestBuilder,
        arg: Option<&str>,
        limit: Duration,
    ) -> Result<reqwest::Response> {
        let response = request.send().await.map_err(|source| self.transport_error(endpoint, source, limit))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<KuboErrorBody>(&body)
            .map(|b| b.message)
            .unwrap_or_else(|_| if body.trim().is_empty() { status.to_string() } else { body.trim().to_owned() });
        Err(Error::from_kubo(endpoint, status.as_u16(), message, arg))
    }

    pub(crate) fn transport_error(&self, endpoint: &str, source: reqwest::Error, limit: Duration) -> Error {
        if source.is_connect() {
            Error::Unreachable { url: self.base.to_string(), source }
        } else if source.is_timeout() {
            Error::Timeout { operation: endpoint.to_owned(), after: limit }
        } else {
            Error::Http { endpoint: endpoint.to_owned(), source }
        }
    }

    /// Splits `cid[/sub/path]` into a checked CID and the IPFS path Kubo is asked for.
    pub(crate) fn ipfs_path(target: &str) -> Result<(Cid, String)> {
        let (cid, rest) = Cid::split_path(target)?;
        let path = cid_path(&cid, rest);
        Ok((cid, path))
    }
}

pub(crate) async fn decode_json<T: serde::de::DeserializeOwned>(
    endpoint: &str,
    response: reqwest::Response,
) -> Result<T> {
    let body = response.bytes().await.map_err(|source| Error::Http { endpoint: endpoint.to_owned(), source })?;
    serde_json::from_slice(&body).map_err(|e| Error::UnexpectedResponse {
        endpoint: endpoint.to_owned(),
        reason: format!("{e} in {}", String::from_utf8_lossy(&body[..body.len().min(200)])),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_urls_with_the_reason() {
        for (url, why) in [
            ("localhost:5001", "scheme"),
            ("ftp://127.0.0.1:5001", "scheme `ftp`"),
            ("https://127.0.0.1:5001", "https"),
            ("not a url", "relative URL"),
        ] {
            let err = KuboClient::new(url).unwrap_err();
            assert!(matches!(err, Error::InvalidUrl { .. }), "{url}: {err:?}");
            assert!(err.to_string().contains(why), "{url}: {err}");
        }
    }

    #[test]
    fn builds_endpoint_urls_under_a_path_prefix() {
        let client = KuboClient::new("http://127.0.0.1:5001/kubo").unwrap();
        let request = client.request("pin/add", &[("arg", "x")]).build().unwrap();
        assert_eq!(request.url().as_str(), "http://127.0.0.1:5001/kubo/api/v0/pin/add?arg=x");
    }

    #[test]
    fn splits_ipfs_paths() {
        let cid = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
        let (parsed, path) = KuboClient::ipfs_path(&format!("/ipfs/{cid}/a/b.txt")).unwrap();
        assert_eq!(parsed.as_str(), cid);
        assert_eq!(path, format!("{cid}/a/b.txt"));
        assert!(matches!(KuboClient::ipfs_path("nope/a"), Err(Error::InvalidCid { .. })));
    }
}
