//! Cheap per-process reads from `/proc`: the numbers sysinfo has no answer for.
//!
//! `/proc/PID/status` is kept open and re-read with `pread` at offset 0, so a sample costs one
//! syscall per process instead of open+read+close; the open file also pins the process identity
//! (a reused pid cannot be mistaken for the one we were watching).

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;

/// One reading of `/proc/PID/status`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Status {
    pub name: String,
    pub ppid: u32,
    pub zombie: bool,
    pub rss_bytes: u64,
    pub hwm_bytes: u64,
    pub swap_bytes: u64,
    pub threads: u64,
}

fn kib_field(value: &str) -> u64 {
    value
        .split_whitespace()
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Parses the text of `/proc/PID/status`.
pub(crate) fn parse_status(text: &str) -> Status {
    let mut status = Status::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "Name" => status.name = value.to_owned(),
            "State" => status.zombie = value.starts_with('Z') || value.starts_with('X'),
            "PPid" => status.ppid = value.parse().unwrap_or(0),
            "VmRSS" => status.rss_bytes = kib_field(value),
            "VmHWM" => status.hwm_bytes = kib_field(value),
            "VmSwap" => status.swap_bytes = kib_field(value),
            "Threads" => status.threads = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    status
}

/// An open `/proc/PID/status` (full figures, ~9 µs a read) and `/proc/PID/statm` (RSS only,
/// ~1.3 µs a read), re-read with `pread`.
#[derive(Debug)]
pub(crate) struct StatusFile {
    file: File,
    statm: File,
    buf: Vec<u8>,
    page_size: u64,
}

impl StatusFile {
    /// Opens `/proc/PID/status`; fails when the process does not exist.
    pub fn open(pid: u32) -> io::Result<Self> {
        // SAFETY: sysconf has no preconditions.
        let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        Ok(Self {
            file: File::open(format!("/proc/{pid}/status"))?,
            statm: File::open(format!("/proc/{pid}/statm"))?,
            buf: vec![0; 4096],
            page_size: u64::try_from(page_size).unwrap_or(4096),
        })
    }

    /// Reads only the current RSS (`/proc/PID/statm`, second field, in pages). An error means
    /// the process is gone; a zombie reads as 0.
    pub fn read_rss(&mut self) -> io::Result<u64> {
        let mut buf = [0u8; 128];
        let n = self.statm.read_at(&mut buf, 0)?;
        if n == 0 {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        let pages = std::str::from_utf8(&buf[..n])
            .ok()
            .and_then(|t| t.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(0);
        Ok(pages * self.page_size)
    }

    /// Reads the current status; an error means the process is gone (reaped).
    pub fn read(&mut self) -> io::Result<Status> {
        let mut len = 0;
        loop {
            let n = self.file.read_at(&mut self.buf[len..], len as u64)?;
            if n == 0 {
                break;
            }
            len += n;
            if len == self.buf.len() {
                self.buf.resize(len * 2, 0);
            }
        }
        if len == 0 {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        let text = std::str::from_utf8(&self.buf[..len])
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(parse_status(text))
    }
}

/// The parent pid from `/proc/PID/stat` (field 4, after the parenthesised name).
pub(crate) fn read_ppid(pid: u32) -> Option<u32> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &text[text.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// Lists `/proc/PID/fd` and returns `(open descriptors, of which sockets)`.
pub(crate) fn count_fds_and_sockets(pid: u32) -> io::Result<(u64, u64)> {
    let mut fds = 0;
    let mut sockets = 0;
    for entry in fs::read_dir(format!("/proc/{pid}/fd"))? {
        let Ok(entry) = entry else { continue };
        fds += 1;
        // A descriptor closed between listing and readlink is simply not counted as a socket.
        if let Ok(target) = fs::read_link(entry.path())
            && target
                .as_os_str()
                .as_encoded_bytes()
                .starts_with(b"socket:")
        {
            sockets += 1;
        }
    }
    Ok((fds, sockets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_fields() {
        let text = "Name:\tmemhog\nState:\tS (sleeping)\nPPid:\t42\nVmHWM:\t  307200 kB\nVmRSS:\t  1024 kB\nVmSwap:\t 8 kB\nThreads:\t3\n";
        let s = parse_status(text);
        assert_eq!(s.name, "memhog");
        assert_eq!(s.ppid, 42);
        assert!(!s.zombie);
        assert_eq!(s.hwm_bytes, 300 * 1024 * 1024);
        assert_eq!(s.rss_bytes, 1024 * 1024);
        assert_eq!(s.swap_bytes, 8192);
        assert_eq!(s.threads, 3);
        assert!(parse_status("State:\tZ (zombie)\n").zombie);
    }

    #[test]
    fn rereads_own_status_and_counts_fds() {
        let mut f = StatusFile::open(std::process::id()).expect("own status");
        let a = f.read().expect("first read");
        let b = f.read().expect("second read");
        assert!(a.rss_bytes > 0 && b.rss_bytes > 0 && b.threads >= 1);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let (fds, sockets) = count_fds_and_sockets(std::process::id()).expect("fds");
        assert!(
            sockets >= 1 && fds >= sockets,
            "fds {fds} sockets {sockets}"
        );
        assert_eq!(
            read_ppid(std::process::id()),
            Some(std::os::unix::process::parent_id())
        );
        drop(listener);
    }
}
