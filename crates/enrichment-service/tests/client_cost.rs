//! What one `reqwest::Client` costs with the default (native-tls) backend.
//!
//! This is why the per-movie strategy is dangerous: the memory and CPU figures
//! are printed for the record, and the memory one must stay large enough to
//! prove the default TLS backend is in use (a switch to a ~20 KiB rustls client
//! would silently defuse the incident reproduction).

use std::time::Duration;

const CLIENTS: usize = 200;

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[test]
fn one_default_reqwest_client_costs_hundreds_of_kib() {
    // Warm up: the first client loads libssl's global state once per process.
    let warm = reqwest::Client::builder().build().expect("client");
    let (rss_before, cpu_before) = (vm_rss_kib(), cpu_time());
    let clients: Vec<reqwest::Client> = (0..CLIENTS)
        .map(|_| {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client")
        })
        .collect();
    let (rss_after, cpu_after) = (vm_rss_kib(), cpu_time());
    let kib_per_client = (rss_after.saturating_sub(rss_before)) as f64 / CLIENTS as f64;
    let cpu_ms_per_client = (cpu_after - cpu_before).as_secs_f64() * 1000.0 / CLIENTS as f64;
    eprintln!(
        "one reqwest::Client (default features, native-tls): {kib_per_client:.0} KiB RSS, \
         {cpu_ms_per_client:.1} ms CPU (mean of {CLIENTS}, {} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    assert!(
        kib_per_client > 256.0,
        "a client costs only {kib_per_client:.0} KiB: is reqwest still on native-tls?"
    );
    drop((warm, clients));
}
