//! Gzip (RFC 1952), the only flate2 user: capped readers (whole or
//! streaming) for files and stored values, a streaming writer for `.gz`
//! outputs, and a one-shot
//! compressor with a reused deflate state (schema-1 values, tests).

use std::io::{self, Read, Write};

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Gunzips `raw` (every member), refusing output past `cap` bytes.
pub fn gunzip(raw: &[u8], cap: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len().saturating_mul(4).min(cap));
    Reader::new(raw, cap as u64).read_to_end(&mut out)?;
    Ok(out)
}

/// A streaming gzip reader (every member) that fails with `InvalidData`
/// once more than `cap` bytes come out: for files too large to hold whole
/// (bulk dumps), read line by line.
pub struct Reader<R: Read> {
    inner: flate2::read::MultiGzDecoder<R>,
    left: u64,
    cap: u64,
}

impl<R: Read> Reader<R> {
    /// Reads the gzip stream `inner`, at most `cap` bytes of output.
    pub fn new(inner: R, cap: u64) -> Reader<R> {
        Reader {
            inner: flate2::read::MultiGzDecoder::new(inner),
            left: cap,
            cap,
        }
    }
}

impl<R: Read> Read for Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("gzip data expands past {} bytes", self.cap),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Whether `bytes` start like a gzip stream.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// A streaming gzip writer (default level), for `-o FILE.gz`.
pub struct Writer<W: Write>(flate2::write::GzEncoder<W>);

impl<W: Write> Writer<W> {
    /// Compresses into `inner`.
    pub fn new(inner: W) -> Writer<W> {
        Writer(flate2::write::GzEncoder::new(inner, Compression::default()))
    }

    /// Writes the gzip trailer (the stream stays usable for flushing `inner`).
    pub fn try_finish(&mut self) -> io::Result<()> {
        self.0.try_finish()
    }

    /// Writes the gzip trailer and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        self.0.finish()
    }

    /// The inner writer.
    pub fn get_mut(&mut self) -> &mut W {
        self.0.get_mut()
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        self.0.get_ref()
    }
}

impl<W: Write> Write for Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Gzips `bytes` at the fast level, with a deflate state reused per thread
/// (a fresh one per small value cost more than the compression itself).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    thread_local! {
        static DEFLATE: std::cell::RefCell<Compress> =
            std::cell::RefCell::new(Compress::new(Compression::fast(), false));
    }
    // Header: magic, deflate, no flags, no mtime, no extra flags, unknown OS.
    let mut out = Vec::with_capacity(bytes.len() / 3 + 64);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    DEFLATE.with(|d| {
        let mut d = d.borrow_mut();
        d.reset();
        loop {
            if out.len() == out.capacity() {
                out.reserve(4096);
            }
            let done = usize::try_from(d.total_in())
                .unwrap_or(bytes.len())
                .min(bytes.len());
            match d.compress_vec(&bytes[done..], &mut out, FlushCompress::Finish) {
                Ok(Status::StreamEnd) | Err(_) => break,
                Ok(Status::BufError) => out.reserve(4096),
                Ok(Status::Ok) => {}
            }
        }
    });
    let mut crc = Crc::new();
    crc.update(bytes);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trips_with_a_reused_compressor() {
        let big: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for body in [&b""[..], b"{}", &big, b"{\"again\":true}"] {
            let gz = gzip(body);
            assert!(is_gzip(&gz));
            assert_eq!(gunzip(&gz, 1 << 20).unwrap(), body);
        }
    }

    #[test]
    fn the_cap_is_enforced_and_garbage_refused() {
        let gz = gzip(&[7u8; 10_000]);
        assert_eq!(gunzip(&gz, 10_000).unwrap().len(), 10_000);
        let e = gunzip(&gz, 9_999).unwrap_err().to_string();
        assert!(e.contains("past 9999 bytes"), "{e}");
        assert!(gunzip(b"garbage", 100).is_err());
    }

    #[test]
    fn the_streaming_reader_reads_every_member_up_to_its_cap() {
        use std::io::BufRead;
        let mut two = gzip(b"a\nb\n");
        two.extend(gzip(b"c\n"));
        let lines: Vec<String> = io::BufReader::new(Reader::new(&two[..], 6))
            .lines()
            .map(Result::unwrap)
            .collect();
        assert_eq!(lines, ["a", "b", "c"]);
        let e = io::BufReader::new(Reader::new(&two[..], 5))
            .lines()
            .find_map(Result::err)
            .unwrap();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn the_writer_streams_a_valid_member() {
        let mut w = Writer::new(Vec::new());
        w.write_all(b"line 1\nline 2\n").unwrap();
        w.try_finish().unwrap();
        let gz = w.get_ref().clone();
        assert_eq!(gunzip(&gz, 100).unwrap(), b"line 1\nline 2\n");
    }
}
