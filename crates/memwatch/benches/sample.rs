//! One sample of a 5-process tree (memhog and four children), as the sampler takes it each
//! tick: the cheap tick (statm only) and the full tick (status + fd/socket listing).

use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use memwatch::{ProcessTree, SamplerConfig};

struct Tree(std::process::Child);
impl Drop for Tree {
    fn drop(&mut self) {
        // SAFETY: plain syscall on our child's process group.
        unsafe { libc::killpg(self.0.id() as libc::pid_t, libc::SIGKILL) };
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bench(c: &mut Criterion) {
    // Cargo builds the `memhog` binary (same profile) before any bench and names it here.
    let memhog = env!("CARGO_BIN_EXE_memhog");
    let child = {
        use std::os::unix::process::CommandExt;
        Command::new(memhog)
            .args(["--children", "4", "--mib", "8", "--hold-ms", "120000"])
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("run {memhog}: {e}"))
    };
    let tree = Tree(child);
    std::thread::sleep(Duration::from_millis(500));
    let cheap = SamplerConfig {
        full_read_interval: Duration::from_secs(3600),
        socket_scan_interval: Duration::from_secs(3600),
        ..SamplerConfig::default()
    };
    let full = SamplerConfig {
        full_read_interval: Duration::ZERO,
        socket_scan_interval: Duration::ZERO,
        ..SamplerConfig::default()
    };
    let mut cheap_tree = ProcessTree::new(tree.0.id(), &cheap).expect("tree");
    let mut full_tree = ProcessTree::new(tree.0.id(), &full).expect("tree");
    assert_eq!(
        full_tree.sample().map(|s| s.processes),
        Some(5),
        "5-process tree"
    );
    cheap_tree.sample();
    c.bench_function("sample_5_processes_statm", |b| {
        b.iter(|| cheap_tree.sample())
    });
    c.bench_function("sample_5_processes_full", |b| b.iter(|| full_tree.sample()));
    c.bench_function("discover_proc_scan", |b| b.iter(|| full_tree.discover()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
