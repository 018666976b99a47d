mod common;
use std::time::Duration;
use common::*;
#[test]
#[ignore]
fn probe() {
    for (tree, sock) in [(10_000, 10_000), (200, 10_000), (10_000, 100)] {
        let cfg = memwatch::SamplerConfig { tree_refresh: Duration::from_millis(tree), socket_scan_interval: Duration::from_millis(sock), ..fast_config() };
        let r = sample_memhog(&["--mib", "20", "--hold-ms", "4000"], cfg);
        eprintln!("tree {tree} sock {sock}: {:.3}% ({} samples)", r.sampler_cpu_fraction * 100.0, r.samples);
    }
}
