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
//! - GPU builds will read NVML's total energy counter (`nvmlDeviceGetTotalEnergyConsumption`); not yet.
//!
//! The method is part of the result, so the runner can log it and expose it in its metrics.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

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
    /// Estimated: CPU time × watts per core.
    Estimate,
}

impl EnergyMethod {
    /// A stable name for logs and metric labels: `rapl` or `estimate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rapl => "rapl",
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
        Self { packages, cpu_at_start: process_cpu_time(), watts_per_core }
    }

    /// The method this measurement uses.
    pub fn method(&self) -> EnergyMethod {
        if self.packages.is_empty() { EnergyMethod::Estimate } else { EnergyMethod::Rapl }
    }

    /// Ends the measurement. A package counter that cannot be read at the end turns the figure into an
    /// estimate rather than a partial measurement.
    pub fn finish(self) -> Energy {
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
