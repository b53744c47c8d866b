//! `deploy/k8s/`: every manifest valid against the pinned Kubernetes version's strict schemas (unknown fields
//! refused), through PyPI `kubernetes-validate` 1.37.0 from the venv `make setup` installs
//! (scripts/k8s-venv.sh; schemas bundled, nothing downloaded at test time); and the pieces agree with the
//! runner: the ConfigMap's runner.toml is a valid config, the probes hit `/health` on the port it serves, the
//! keystore paths are the Secret's keys, the CUDA variant asks for a GPU and runs on CUDA.

use std::{path::PathBuf, process::Command};

use cairn_chain::signer::{PasswordSource, SignerSource};
use cairn_runner::{
    bert::DeviceKind,
    service::config::{Resolved, RunnerConfig},
};
use serde_json::Value;

/// The Kubernetes version the manifests are held to.
const KUBERNETES: &str = "1.33.0";

fn validator() -> PathBuf {
    cairn_testkit::venv_tool("CAIRN_K8S_VENV", "k8s-venv", "kubernetes-validate", "scripts/k8s-venv.sh")
}

fn validate(path: &std::path::Path) -> Result<(), String> {
    let out = Command::new(validator())
        .args(["--strict", "--quiet", "-k", KUBERNETES])
        .arg(path)
        .output()
        .expect("kubernetes-validate runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() { Ok(()) } else { Err(text) }
}

fn manifests() -> Vec<PathBuf> {
    let dir = cairn_testkit::repo_root().join("deploy/k8s");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn resources(path: &std::path::Path) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn kind<'a>(resources: &'a [Value], kind: &str) -> &'a Value {
    resources.iter().find(|r| r["kind"] == kind).unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn every_manifest_is_valid_for_the_pinned_kubernetes_and_an_unknown_field_is_not() {
    let files = manifests();
    assert_eq!(files.len(), 2, "runner.yaml and runner-cuda.yaml: {files:?}");
    for file in &files {
        validate(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.yaml");
    let text = std::fs::read_to_string(&files[0]).unwrap().replace("livenessProbe", "livenesProbe");
    std::fs::write(&typo, text).unwrap();
    let err = validate(&typo).expect_err("a misspelt field must be refused");
    assert!(err.contains("livenesProbe"), "{err}");
}

#[test]
fn the_manifests_agree_with_the_runner() {
    for file in manifests() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let all = resources(&file);
        let config_text = kind(&all, "ConfigMap")["data"]["runner.toml"].as_str().unwrap();
        let resolved: Resolved = toml::from_str::<RunnerConfig>(config_text)
            .unwrap_or_else(|e| panic!("{name}: runner.toml: {e}"))
            .resolve()
            .unwrap();
        let deployment = kind(&all, "Deployment");
        let pod = &deployment["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        let port = container["ports"].as_array().unwrap().iter().find(|p| p["name"] == "http").unwrap();
        let listen = resolved.config.http.listen.expect("the ConfigMap serves /health");
        assert_eq!(port["containerPort"].as_u64(), Some(u64::from(listen.port())), "{name}");
        for probe in ["livenessProbe", "readinessProbe"] {
            assert_eq!(container[probe]["httpGet"]["path"], "/health", "{name} {probe}");
            assert_eq!(container[probe]["httpGet"]["port"], "http", "{name} {probe}");
        }
        assert_eq!(container["args"][2], "/etc/cairn/runner.toml", "{name}");
        // The keystore and its password are the Secret's two keys, mounted where the config reads them.
        let SignerSource::Keystore { path, password: PasswordSource::File(password) } =
            &resolved.config.operator.signer
        else {
            panic!("{name}: the signer is a keystore with a password file");
        };
        let secret = kind(&all, "Secret");
        for file in [path, password] {
            assert!(file.starts_with("/etc/cairn/keys"), "{name}: {}", file.display());
            let key = file.file_name().unwrap().to_str().unwrap();
            assert!(secret["stringData"].get(key).is_some(), "{name}: the Secret has no {key}");
        }
        // State on the volume, one runner per journal, a budget that selects the pod.
        assert!(resolved.config.storage.state_dir.starts_with("/var/lib/cairn-runner"), "{name}");
        assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate", "{name}");
        assert_eq!(deployment["spec"]["replicas"], 1, "{name}");
        let labels = &deployment["spec"]["template"]["metadata"]["labels"];
        assert_eq!(&kind(&all, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"], labels, "{name}");
        let gpu = &container["resources"]["limits"]["nvidia.com/gpu"];
        if name.contains("cuda") {
            assert_eq!(gpu.as_u64(), Some(1), "{name}");
            assert_eq!(resolved.device, DeviceKind::Cuda(0), "{name}");
        } else {
            assert!(gpu.is_null(), "{name}");
            assert_eq!(resolved.device, DeviceKind::Cpu, "{name}");
        }
    }
}
