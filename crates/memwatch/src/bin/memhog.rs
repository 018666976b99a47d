//! memhog: a test helper that allocates and touches a known amount of memory.
//!
//! `memhog --mib N [--hold-ms M] [--spike-ms S] [--children K] [--sockets K]`
//!
//! Allocates N MiB (anonymous mmap, every page written), holds it M ms and exits. With
//! `--spike-ms S` the memory is released after S ms and the process then idles M ms. With
//! `--children K` it starts K copies of itself (each allocating N MiB) and waits for them,
//! allocating nothing itself. `--sockets K` opens K loopback listeners. Prints `ready` on
//! stdout once its own memory is touched.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, ExitCode};
use std::time::Duration;

#[derive(Default)]
struct Args {
    mib: usize,
    hold_ms: u64,
    spike_ms: Option<u64>,
    children: usize,
    sockets: usize,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        hold_ms: 10_000,
        ..Args::default()
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let n: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: not a number: {value}"))?;
        match flag.as_str() {
            "--mib" => args.mib = n as usize,
            "--hold-ms" => args.hold_ms = n,
            "--spike-ms" => args.spike_ms = Some(n),
            "--children" => args.children = n as usize,
            "--sockets" => args.sockets = n as usize,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(args)
}

/// Maps and writes every page of `mib` MiB; returns the mapping.
fn allocate(mib: usize) -> Option<(*mut libc::c_void, usize)> {
    if mib == 0 {
        return None;
    }
    let len = mib << 20;
    // SAFETY: anonymous private mapping of `len` bytes, checked for failure.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return None;
    }
    let bytes = ptr.cast::<u8>();
    for offset in (0..len).step_by(4096) {
        // SAFETY: offset < len, inside the mapping.
        unsafe { bytes.add(offset).write_volatile(1) };
    }
    Some((ptr, len))
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("memhog: {e}");
            return ExitCode::from(2);
        }
    };
    let _listeners: Vec<TcpListener> = (0..args.sockets)
        .filter_map(|_| TcpListener::bind("127.0.0.1:0").ok())
        .collect();
    if args.children > 0 {
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => {
                eprintln!("memhog: {e}");
                return ExitCode::from(1);
            }
        };
        let kids: Vec<_> = (0..args.children)
            .filter_map(|_| {
                Command::new(&exe)
                    .args([
                        "--mib",
                        &args.mib.to_string(),
                        "--hold-ms",
                        &args.hold_ms.to_string(),
                    ])
                    .spawn()
                    .ok()
            })
            .collect();
        println!("ready");
        for mut kid in kids {
            let _ = kid.wait();
        }
        return ExitCode::SUCCESS;
    }
    let mapping = allocate(args.mib);
    if args.mib > 0 && mapping.is_none() {
        eprintln!("memhog: mmap of {} MiB failed", args.mib);
        return ExitCode::from(1);
    }
    println!("ready");
    let _ = std::io::stdout().flush();
    if let Some(spike) = args.spike_ms {
        std::thread::sleep(Duration::from_millis(spike));
        if let Some((ptr, len)) = mapping {
            // SAFETY: unmapping exactly the mapping made above.
            unsafe { libc::munmap(ptr, len) };
        }
    }
    std::thread::sleep(Duration::from_millis(args.hold_ms));
    ExitCode::SUCCESS
}
