//! The energy figure of a job's receipt (`JobReceipt.energyMillijoules`, issue #15): measured where the
//! machine lets us, estimated and labelled as such where it does not.
//!
//! - **RAPL** (Intel's Running Average Power Limit counters, also on AMD Zen through the same powercap
//!   interface): the `energy_uj` counter of every CPU package under `/sys/class/powercap` (`intel-rapl:N`,
//!   sub-zones left out since the package counter includes them), read before and after the work; a counter
//!   that passed `max_energy_range_uj` wrapped once. RAPL measures the whole package, so work that runs
//!   beside the job is counted too: the figure is an upper bound for the job. (Linux powercap sysfs ABI,
//!   `Documentation/power/powercap/powercap.rst`.)
//! - **Estimate** where no counter is readable (virtual machines, containers without the sysfs files, or
//!   kernels that restrict `energy_uj` to root): the process's CPU time (user + system, all threads, from
//!   `/proc/self/stat` in `USER_HZ` = 100 ticks per second, the kernel's fixed ABI for /proc) × a per-core
//!   power figure from the runner's configuration.
//! - **NVML** on a GPU (`cuda` builds, which enable the `nvml` feature): the board's total energy counter
//!   (`nvmlDeviceGetTotalEnergyConsumption`, millijoules since the driver loaded; Volta and newer), read before
//!   and after the work. Like RAPL it counts the whole board, other processes' kernels included; the host
//!   CPU's share of a GPU job (tokenization, pooling) is not added. NVML ships with the NVIDIA driver and is
//!   loaded at run time (the `nvml-wrapper` crate), so a build with it runs on machines without it. `cuda:N`
//!   is CUDA's device N: through `CUDA_VISIBLE_DEVICES` when set (an index or a `GPU-…` UUID per entry, as
//!   the CUDA runtime reads it), and in PCI order, which is NVML's, so with more than one GPU visible the
//!   counter is used only under `CUDA_DEVICE_ORDER=PCI_BUS_ID` (CUDA's default order, fastest first, may
//!   differ from NVML's). A board split into MIG instances is not measured (its counter counts every
//!   instance). Where NVML, the GPU or its counter is missing, the CPU's method applies and the reason is kept
//!   ([`EnergyMeter::note`]).
//!
//! The method is part of the result, so the runner can log it and expose it in its metrics.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use crate::bert::DeviceKind;

/// Where Linux exposes the powercap counters.
pub const POWERCAP: &str = "/sys/class/powercap";

/// The per-core power figure the estimate uses when the configuration gives none: 10 W per busy core, a
/// middle figure for server and desktop cores at full load (their TDP divided by their cores: roughly 5 to 15
/// W on current parts).
pub const DEFAULT_WATTS_PER_CORE: f64 = 10.0;

/// How an energy figure was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnergyMethod {
    /// Measured by the CPU packages' RAPL counters.
    Rapl,
    /// Measured by the GPU board's NVML energy counter.
    Nvml,
    /// Estimated: CPU time × watts per core.
    Estimate,
}

impl EnergyMethod {
    /// A stable name for logs and metric labels: `rapl`, `nvml` or `estimate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rapl => "rapl",
            Self::Nvml => "nvml",
            Self::Estimate => "estimate",
        }
    }
}

/// An energy figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Energy {
    /// Millijoules.
    pub millijoules: u64,
    /// How it was obtained.
    pub method: EnergyMethod,
}

/// A measurement in progress: [`EnergyMeter::start`] before the work, [`EnergyMeter::finish`] after.
#[derive(Debug)]
pub struct EnergyMeter {
    /// Each package's counter file, its value at the start (µJ) and its wrap range (µJ).
    packages: Vec<(PathBuf, u64, u64)>,
    cpu_at_start: Duration,
    watts_per_core: f64,
    /// The GPU's NVML selector and its counter at the start (mJ), when the work runs on a GPU NVML can read.
    gpu: Option<(NvmlDevice, u64)>,
    /// Why a GPU job is not measured by NVML.
    note: Option<String>,
}

impl EnergyMeter {
    /// Starts measuring: RAPL when every package counter under `powercap` ([`POWERCAP`] on a real machine)
    /// is readable, else an estimate at `watts_per_core` watts per busy core.
    pub fn start(powercap: &Path, watts_per_core: f64) -> Self {
        let mut packages = Vec::new();
        if let Ok(dir) = std::fs::read_dir(powercap) {
            for zone in dir.flatten() {
                let name = zone.file_name().to_string_lossy().into_owned();
                // Packages are `intel-rapl:N`; `intel-rapl:N:M` are their sub-zones (cores, DRAM, …).
                let Some(index) = name.strip_prefix("intel-rapl:") else { continue };
                if index.contains(':') {
                    continue;
                }
                let counter = zone.path().join("energy_uj");
                match (read_u64(&counter), read_u64(&zone.path().join("max_energy_range_uj"))) {
                    (Some(now), Some(range)) if range > 0 => packages.push((counter, now, range)),
                    // One unreadable package would under-count: estimate instead.
                    _ => {
                        packages.clear();
                        break;
                    }
                }
            }
        }
        Self { packages, cpu_at_start: process_cpu_time(), watts_per_core, gpu: None, note: None }
    }

    /// Starts measuring work that runs on `device`: NVML's counter of that GPU when it can be read, else as
    /// [`EnergyMeter::start`] does, with the reason in [`EnergyMeter::note`].
    pub fn start_on(device: DeviceKind, powercap: &Path, watts_per_core: f64) -> Self {
        let mut meter = Self::start(powercap, watts_per_core);
        if let DeviceKind::Cuda(ordinal) = device {
            let visible = std::env::var("CUDA_VISIBLE_DEVICES").ok();
            let pci_order = std::env::var("CUDA_DEVICE_ORDER").is_ok_and(|v| v == "PCI_BUS_ID");
            match NvmlDevice::of_cuda(ordinal, visible.as_deref()).and_then(|d| Ok((d.read(pci_order)?, d))) {
                Ok((millijoules, d)) => meter.gpu = Some((d, millijoules)),
                Err(why) => meter.note = Some(why),
            }
        }
        meter
    }

    /// The method this measurement uses.
    pub fn method(&self) -> EnergyMethod {
        if self.gpu.is_some() {
            EnergyMethod::Nvml
        } else if self.packages.is_empty() {
            EnergyMethod::Estimate
        } else {
            EnergyMethod::Rapl
        }
    }

    /// Why work on a GPU is not measured by NVML (NVML not built in or not loadable, the GPU not found, no
    /// energy counter on it); `None` when it is, or when the work runs on the CPU.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Ends the measurement. A package counter that cannot be read at the end turns the figure into an
    /// estimate rather than a partial measurement.
    pub fn finish(self) -> Energy {
        if let Some((device, start)) = &self.gpu {
            // The counter is 64-bit millijoules since the driver loaded: it does not wrap.
            if let Ok(end) = device.read(true) {
                return Energy { millijoules: end.saturating_sub(*start), method: EnergyMethod::Nvml };
            }
        }
        if !self.packages.is_empty() {
            let mut microjoules: u64 = 0;
            let mut complete = true;
            for (counter, start, range) in &self.packages {
                match read_u64(counter) {
                    // The counter wraps at `range` (once, for any job shorter than the wrap time: minutes at
                    // full load on the largest packages).
                    Some(end) if end >= *start => microjoules += end - start,
                    Some(end) => microjoules += range - start + end,
                    None => complete = false,
                }
            }
            if complete {
                return Energy { millijoules: microjoules / 1000, method: EnergyMethod::Rapl };
            }
        }
        let cpu = process_cpu_time().saturating_sub(self.cpu_at_start);
        let millijoules = (cpu.as_secs_f64() * self.watts_per_core * 1000.0).round() as u64;
        Energy { millijoules, method: EnergyMethod::Estimate }
    }
}

/// A GPU as NVML names it: by index (NVML's order is the PCI bus order) or by UUID (`GPU-…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NvmlDevice {
    /// NVML's index.
    Index(u32),
    /// The board's UUID, as `nvidia-smi -L` prints it.
    Uuid(String),
}

impl NvmlDevice {
    /// The GPU that CUDA calls device `ordinal`, given `CUDA_VISIBLE_DEVICES` (`None`: unset, every GPU
    /// visible). Each entry of that list is an index or a `GPU-` UUID; the runtime stops at the first entry it
    /// cannot parse, hiding the rest (CUDA C Programming Guide, "CUDA Environment Variables"), and so does this
    /// mapping. A MIG instance (`MIG-…`) has no energy counter of its own, and a UUID prefix, which CUDA accepts,
    /// cannot be looked up in NVML: both are refused with the reason.
    pub fn of_cuda(ordinal: usize, visible: Option<&str>) -> Result<Self, String> {
        let Some(list) = visible else {
            return u32::try_from(ordinal).map(Self::Index).map_err(|_| format!("cuda:{ordinal} is out of range"));
        };
        let parsed = |entry: &str| -> Option<Self> {
            if entry.starts_with("GPU-") {
                Some(Self::Uuid(entry.to_owned()))
            } else if entry.starts_with("MIG-") {
                None
            } else {
                entry.parse().ok().map(Self::Index)
            }
        };
        let entries: Vec<&str> = list.split(',').map(str::trim).collect();
        let Some(entry) = entries.get(ordinal).filter(|e| !e.is_empty()) else {
            return Err(format!(
                "cuda:{ordinal} is not in CUDA_VISIBLE_DEVICES={list:?}, so its NVML counter cannot be found"
            ));
        };
        if let Some(bad) = entries[..ordinal].iter().find(|e| parsed(e).is_none()) {
            return Err(format!(
                "CUDA_VISIBLE_DEVICES={list:?} stops at {bad:?} (CUDA ignores what follows), so cuda:{ordinal} names \
                 no GPU NVML can find"
            ));
        }
        match parsed(entry) {
            Some(Self::Uuid(uuid)) if uuid.len() < "GPU-00000000-0000-0000-0000-000000000000".len() => Err(format!(
                "CUDA_VISIBLE_DEVICES entry {uuid:?} for cuda:{ordinal} is a UUID prefix; NVML needs the whole UUID \
                 (`nvidia-smi -L` prints it)"
            )),
            Some(device) => Ok(device),
            None => Err(format!(
                "CUDA_VISIBLE_DEVICES entry {entry:?} for cuda:{ordinal} is neither an index nor a full GPU- UUID \
                 (a MIG instance has no energy counter of its own)"
            )),
        }
    }

    /// The board's energy counter, millijoules since the driver loaded. `pci_order`: CUDA enumerates in PCI
    /// order (`CUDA_DEVICE_ORDER=PCI_BUS_ID`), as NVML does; without it an index is trusted only when NVML
    /// sees a single GPU.
    #[cfg(feature = "nvml")]
    fn read(&self, pci_order: bool) -> Result<u64, String> {
        static NVML: std::sync::OnceLock<Result<nvml_wrapper::Nvml, String>> = std::sync::OnceLock::new();
        let nvml = NVML
            .get_or_init(|| nvml_wrapper::Nvml::init().map_err(|e| format!("NVML cannot be loaded: {e}")))
            .as_ref()
            .map_err(Clone::clone)?;
        let device = match self {
            Self::Index(index) => {
                let count = nvml.device_count().map_err(|e| format!("NVML cannot count the GPUs: {e}"))?;
                if count > 1 && !pci_order {
                    return Err(format!(
                        "{count} GPUs and CUDA's default order (fastest first) may differ from NVML's (PCI): set \
                         CUDA_DEVICE_ORDER=PCI_BUS_ID or CUDA_VISIBLE_DEVICES=GPU-<uuid> to measure the GPU's energy"
                    ));
                }
                nvml.device_by_index(*index)
            }
            Self::Uuid(uuid) => nvml.device_by_uuid(uuid.as_str()),
        }
        .map_err(|e| format!("NVML has no GPU {self:?}: {e}"))?;
        // With MIG on, CUDA's device is one instance of the board, and the board's counter would count the other
        // instances' tenants too.
        // `NVML_DEVICE_MIG_ENABLE` in nvml.h.
        const MIG_ENABLED: u32 = 1;
        if device.mig_mode().is_ok_and(|m| m.current == MIG_ENABLED) {
            return Err(format!("GPU {self:?} is split into MIG instances: its counter is the whole board's"));
        }
        device
            .total_energy_consumption()
            .map_err(|e| format!("GPU {self:?} has no energy counter (NVML has one on Volta and newer): {e}"))
    }

    #[cfg(not(feature = "nvml"))]
    fn read(&self, _pci_order: bool) -> Result<u64, String> {
        Err("this build has no NVML support (build with `--features nvml`, which `cuda` includes)".into())
    }
}

fn read_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// This process's CPU time, user + system, every thread (`/proc/self/stat` fields 14 and 15, in USER_HZ =
/// 100 ticks per second). Zero where /proc is not mounted (the estimate is then zero, not invented).
pub fn process_cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return Duration::ZERO };
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(root: &Path, name: &str, energy: u64, range: u64) {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("energy_uj"), format!("{energy}\n")).unwrap();
        std::fs::write(dir.join("max_energy_range_uj"), format!("{range}\n")).unwrap();
    }

    #[test]
    fn rapl_sums_the_packages_and_handles_a_wrap() {
        let root = tempfile::tempdir().unwrap();
        zone(root.path(), "intel-rapl:0", 1_000, 1_000_000);
        zone(root.path(), "intel-rapl:1", 990_000, 1_000_000);
        zone(root.path(), "intel-rapl:0:0", 0, 1_000_000); // a sub-zone: inside package 0, not added
        let meter = EnergyMeter::start(root.path(), DEFAULT_WATTS_PER_CORE);
        assert_eq!(meter.method(), EnergyMethod::Rapl);
        zone(root.path(), "intel-rapl:0", 6_000, 1_000_000); // +5,000 µJ
        zone(root.path(), "intel-rapl:1", 4_000, 1_000_000); // wrapped: +14,000 µJ
        zone(root.path(), "intel-rapl:0:0", 500_000, 1_000_000);
        assert_eq!(meter.finish(), Energy { millijoules: 19, method: EnergyMethod::Rapl });
    }

    #[test]
    fn estimates_from_cpu_time_without_readable_counters() {
        let root = tempfile::tempdir().unwrap();
        let meter = EnergyMeter::start(&root.path().join("no-powercap"), 20.0);
        assert_eq!(meter.method(), EnergyMethod::Estimate);
        let before = process_cpu_time();
        let mut x = 0u64;
        while process_cpu_time() < before + Duration::from_millis(200) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(std::hint::black_box(1));
        }
        std::hint::black_box(x);
        let energy = meter.finish();
        assert_eq!(energy.method, EnergyMethod::Estimate);
        // ≥ 200 ms of CPU at 20 W ≥ 4 J (other test threads may add their CPU time: a lower bound only).
        assert!(energy.millijoules >= 4_000, "{energy:?}");
    }

    #[test]
    fn cuda_ordinals_map_to_nvml_devices_through_cuda_visible_devices() {
        assert_eq!(NvmlDevice::of_cuda(1, None), Ok(NvmlDevice::Index(1)));
        assert_eq!(NvmlDevice::of_cuda(1, Some("3, 2")), Ok(NvmlDevice::Index(2)));
        let uuid = "GPU-8932f937-d72c-4106-c12f-20bd9faed9f6";
        assert_eq!(NvmlDevice::of_cuda(0, Some(uuid)), Ok(NvmlDevice::Uuid(uuid.into())));
        let err = NvmlDevice::of_cuda(2, Some("0,1")).unwrap_err();
        assert!(err.contains("cuda:2 is not in CUDA_VISIBLE_DEVICES"), "{err}");
        assert!(NvmlDevice::of_cuda(0, Some("")).is_err(), "an empty list hides every GPU");
        let err = NvmlDevice::of_cuda(0, Some("MIG-4b2a0c3e-1d4f-5a6b-8c9d-0e1f2a3b4c5d")).unwrap_err();
        assert!(err.contains("MIG instance"), "{err}");
        let err = NvmlDevice::of_cuda(0, Some("GPU-8932f937")).unwrap_err();
        assert!(err.contains("UUID prefix"), "{err}");
        // CUDA stops at the first entry it cannot parse: cuda:2 does not exist here, and cuda:1 is no GPU.
        let err = NvmlDevice::of_cuda(2, Some("0,bogus,2")).unwrap_err();
        assert!(err.contains("stops at \"bogus\""), "{err}");
        assert!(NvmlDevice::of_cuda(1, Some("0,bogus,2")).is_err());
        assert_eq!(NvmlDevice::of_cuda(0, Some("0,bogus,2")), Ok(NvmlDevice::Index(0)));
    }

    /// A GPU job is measured by NVML with no note, or falls back to the CPU's method with the reason in the note
    /// (here: no NVIDIA driver, a build without the `nvml` feature, or a GPU NVML cannot measure); CPU work never
    /// looks at NVML.
    #[test]
    fn a_gpu_job_is_measured_by_nvml_or_says_why_not() {
        let root = tempfile::tempdir().unwrap();
        let meter = EnergyMeter::start_on(DeviceKind::Cuda(0), &root.path().join("no-powercap"), 10.0);
        if meter.method() == EnergyMethod::Nvml {
            assert_eq!(meter.note(), None);
        } else {
            assert_eq!(meter.method(), EnergyMethod::Estimate, "no powercap here");
            let note = meter.note().expect("a reason").to_owned();
            assert!(note.contains("NVML") || note.contains("CUDA_") || note.contains("MIG"), "{note}");
            assert_eq!(meter.finish().method, EnergyMethod::Estimate);
        }
        let cpu = EnergyMeter::start_on(DeviceKind::Cpu, &root.path().join("no-powercap"), 10.0);
        assert_eq!(cpu.note(), None, "CPU work needs no GPU counter");
    }

    /// On a GPU machine that asks for it (`CAIRN_TEST_NVML=1`, set by the GPU job), NVML measures `cuda:0`.
    #[cfg(feature = "nvml")]
    #[test]
    fn nvml_measures_the_gpu_where_asked() {
        if std::env::var("CAIRN_TEST_NVML").as_deref() != Ok("1") {
            return;
        }
        let root = tempfile::tempdir().unwrap();
        let meter = EnergyMeter::start_on(DeviceKind::Cuda(0), &root.path().join("no-powercap"), 10.0);
        assert_eq!((meter.method(), meter.note()), (EnergyMethod::Nvml, None));
        std::thread::sleep(Duration::from_millis(200)); // an idle board still draws tens of watts
        let energy = meter.finish();
        assert_eq!(energy.method, EnergyMethod::Nvml);
        assert!(energy.millijoules > 0, "{energy:?}");
    }

    #[test]
    fn a_package_that_cannot_be_read_means_an_estimate() {
        let root = tempfile::tempdir().unwrap();
        zone(root.path(), "intel-rapl:0", 1_000, 1_000_000);
        std::fs::create_dir_all(root.path().join("intel-rapl:1")).unwrap(); // no counter files
        assert_eq!(EnergyMeter::start(root.path(), 10.0).method(), EnergyMethod::Estimate);
        // A counter that disappears during the job: the figure is an estimate, never a partial sum.
        let root = tempfile::tempdir().unwrap();
        zone(root.path(), "intel-rapl:0", 1_000, 1_000_000);
        let meter = EnergyMeter::start(root.path(), 10.0);
        std::fs::remove_file(root.path().join("intel-rapl:0/energy_uj")).unwrap();
        assert_eq!(meter.finish().method, EnergyMethod::Estimate);
    }
}
