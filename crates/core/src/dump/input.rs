//! Bytes → text lines: gzip sniffing (the one flate2 use of the dump reader),
//! a line reader whose memory is bounded by [`MAX_LINE`], and the Latin-1
//! fallback for lines that are not UTF-8.

use std::io::{self, BufRead, BufReader, Read};

/// Longest line kept (bytes); the rest of a longer line is read and dropped,
/// and the line is reported as [`Line::Overlong`].
pub const MAX_LINE: usize = 64 * 1024;

/// What broke the byte stream (fatal for the file).
#[derive(Debug)]
pub enum InputError {
    /// The gzip stream is damaged or ends early, or reading failed.
    Io(io::Error),
    /// A NUL byte: this is not RPSL text.
    Binary {
        /// 1-based line number of the first NUL.
        line: u64,
    },
}

/// The file's bytes, gunzipped when they start with the gzip magic (`1f 8b`).
///
/// The only place the dump reader touches flate2: when the project's gzip
/// owner module exists, this function is the one to redirect to it.
pub fn decompress<'a, R: Read + 'a>(r: R) -> io::Result<Box<dyn BufRead + 'a>> {
    let mut r = BufReader::with_capacity(64 * 1024, r);
    let magic = r.fill_buf()?;
    if magic.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::bufread::MultiGzDecoder::new(r);
        Ok(Box::new(BufReader::with_capacity(64 * 1024, gz)))
    } else {
        Ok(Box::new(r))
    }
}

/// One line, without its `\n` / `\r\n`.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// The line's text (UTF-8, or Latin-1 decoded).
    Text(&'a str),
    /// Longer than [`MAX_LINE`]: its text is not kept.
    Overlong,
}

/// Reads lines from a [`BufRead`] holding at most [`MAX_LINE`] bytes of one.
///
/// Lines are handed out as slices of its own buffer (a UTF-8 line is never
/// copied; a Latin-1 one is decoded into a side string), and the byte scan
/// for the end of the line also finds a NUL: each byte is looked at once.
pub struct Lines<R> {
    inner: R,
    /// `buf[pos..end]` is read and not yet handed out.
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Whether `inner` has ended.
    eof: bool,
    /// A Latin-1 line, decoded.
    text: String,
    line_no: u64,
}

/// Bytes read ahead: more than the longest kept line, so a kept line always
/// lies whole in the buffer.
const BUFFER: usize = 4 * MAX_LINE;

/// Where a line ends, in the bytes after a line start.
enum Scan {
    /// The line's `\n` is at this offset.
    Newline(usize),
    /// A NUL comes before any `\n`.
    Nul,
    /// Neither: the line goes on past these bytes.
    Open,
}

fn scan(bytes: &[u8]) -> Scan {
    match memchr::memchr2(b'\n', 0, bytes) {
        Some(i) if bytes.get(i) == Some(&0) => Scan::Nul,
        Some(i) => Scan::Newline(i),
        None => Scan::Open,
    }
}

impl<R: BufRead> Lines<R> {
    /// Lines of `inner`.
    pub fn new(inner: R) -> Lines<R> {
        Lines {
            inner,
            buf: vec![0; BUFFER],
            pos: 0,
            end: 0,
            eof: false,
            text: String::with_capacity(256),
            line_no: 0,
        }
    }

    /// Lines read so far.
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// Moves the unread bytes to the front and reads more after them;
    /// false at the end of the stream (nothing more came).
    fn refill(&mut self) -> Result<bool, InputError> {
        if self.eof {
            return Ok(false);
        }
        self.buf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        loop {
            let Some(room) = self.buf.get_mut(self.end..) else {
                return Ok(false);
            };
            if room.is_empty() {
                return Ok(true);
            }
            match self.inner.read(room) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(InputError::Io(e)),
            }
        }
    }

    /// The next line, `None` at the end of the stream.
    pub fn next_line(&mut self) -> Result<Option<Line<'_>>, InputError> {
        // Offset (from `pos`) up to which no `\n` nor NUL was found.
        let mut searched = 0;
        let len = loop {
            let unread = self.buf.get(self.pos..self.end).unwrap_or(&[]);
            match scan(unread.get(searched..).unwrap_or(&[])) {
                Scan::Nul => {
                    return Err(InputError::Binary {
                        line: self.line_no + 1,
                    })
                }
                Scan::Newline(i) => break searched + i,
                Scan::Open => {}
            }
            searched = unread.len();
            if searched > MAX_LINE {
                return self.skip_overlong();
            }
            if !self.refill()? {
                // The end of the stream: the last line has no `\n`.
                let rest = self.end - self.pos;
                if rest == 0 {
                    return Ok(None);
                }
                if rest > MAX_LINE {
                    return self.skip_overlong();
                }
                break rest;
            }
        };
        self.line_no += 1;
        let start = self.pos;
        self.pos = (start + len + 1).min(self.end);
        if len > MAX_LINE {
            return Ok(Some(Line::Overlong));
        }
        let mut line = self.buf.get(start..start + len).unwrap_or(&[]);
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        if let Ok(s) = std::str::from_utf8(line) {
            return Ok(Some(Line::Text(s)));
        }
        self.text.clear();
        self.text.extend(line.iter().map(|&b| char::from(b)));
        Ok(Some(Line::Text(&self.text)))
    }

    /// Reads past the rest of a line longer than [`MAX_LINE`] (still
    /// refusing a NUL in it) and reports it.
    fn skip_overlong(&mut self) -> Result<Option<Line<'_>>, InputError> {
        self.line_no += 1;
        loop {
            let unread = self.buf.get(self.pos..self.end).unwrap_or(&[]);
            match scan(unread) {
                Scan::Nul => return Err(InputError::Binary { line: self.line_no }),
                Scan::Newline(i) => {
                    self.pos += i + 1;
                    return Ok(Some(Line::Overlong));
                }
                Scan::Open => self.pos = self.end,
            }
            if !self.refill()? {
                return Ok(Some(Line::Overlong));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn lines(bytes: &[u8]) -> Vec<String> {
        lines_of(bytes)
    }

    #[test]
    fn crlf_lf_and_no_final_newline() {
        assert_eq!(lines(b"a: 1\r\nb: 2\n\nc"), ["a: 1", "b: 2", "", "c"]);
        assert_eq!(lines(b""), Vec::<String>::new());
        assert_eq!(lines(b"\n"), [""]);
    }

    #[test]
    fn latin1_when_not_utf8() {
        // "Société" in Latin-1, then in UTF-8.
        assert_eq!(
            lines(b"descr: Soci\xe9t\xe9\ndescr: Soci\xc3\xa9t\xc3\xa9\n"),
            ["descr: Société", "descr: Société"]
        );
    }

    #[test]
    fn overlong_lines_are_not_held() {
        let mut body = b"a: 1\n".to_vec();
        body.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        body.extend(b"\nb: 2\n");
        assert_eq!(lines(&body), ["a: 1", "<overlong>", "b: 2"]);
        let mut exact = vec![b'y'; MAX_LINE];
        exact.push(b'\n');
        assert_eq!(lines(&exact)[0].len(), MAX_LINE);
    }

    /// A reader that hands out at most `step` bytes per read: lines cross
    /// every refill boundary.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_across_refills_equal_a_plain_split() {
        // Lines of every length up to past the buffer, some overlong.
        let mut body = Vec::new();
        let mut want = Vec::new();
        let mut len = 0usize;
        while body.len() < 3 * BUFFER {
            let line = vec![b'a' + (len % 26) as u8; len];
            body.extend_from_slice(&line);
            body.push(b'\n');
            want.push(if len > MAX_LINE {
                "<overlong>".to_string()
            } else {
                String::from_utf8(line).unwrap()
            });
            len = (len * 7 + 13) % (MAX_LINE + 2_000);
        }
        for step in [1, 7, 4096, 1 << 20] {
            if step == 1 && body.len() > 1 << 20 {
                // One byte per read is slow in a debug build: a prefix will do.
                let cut = body
                    .iter()
                    .take(200_000)
                    .rposition(|&b| b == b'\n')
                    .unwrap()
                    + 1;
                let n = memchr::memchr_iter(b'\n', &body[..cut]).count();
                let got = lines_of(BufReader::new(Trickle {
                    bytes: &body[..cut],
                    step,
                }));
                assert_eq!(got, want[..n], "step {step}");
                continue;
            }
            let got = lines_of(BufReader::new(Trickle { bytes: &body, step }));
            assert_eq!(got.len(), want.len(), "step {step}");
            assert!(got == want, "step {step}");
        }
        // A NUL inside an overlong line is still binary, at its line.
        let mut bad = b"a: 1\n".to_vec();
        bad.extend(std::iter::repeat_n(b'x', MAX_LINE + 100));
        bad.push(0);
        bad.extend(b"\n");
        let mut l = Lines::new(BufReader::new(Trickle {
            bytes: &bad,
            step: 999,
        }));
        assert!(matches!(l.next_line(), Ok(Some(Line::Text("a: 1")))));
        assert!(matches!(l.next_line(), Err(InputError::Binary { line: 2 })));
    }

    fn lines_of<R: BufRead>(r: R) -> Vec<String> {
        let mut l = Lines::new(r);
        let mut out = Vec::new();
        while let Some(line) = l.next_line().unwrap() {
            out.push(match line {
                Line::Text(t) => t.to_string(),
                Line::Overlong => "<overlong>".to_string(),
            });
        }
        out
    }

    #[test]
    fn nul_is_binary() {
        let mut l = Lines::new(&b"a: 1\nb\x00c\n"[..]);
        assert!(matches!(l.next_line(), Ok(Some(Line::Text("a: 1")))));
        assert!(matches!(l.next_line(), Err(InputError::Binary { line: 2 })));
    }

    #[test]
    fn gzip_is_sniffed_and_plain_passes_through() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"inetnum: 1.0.0.0 - 1.0.0.255\n").unwrap();
        let gz = gz.finish().unwrap();
        let mut text = String::new();
        decompress(&gz[..])
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "inetnum: 1.0.0.0 - 1.0.0.255\n");
        let mut plain = String::new();
        decompress(&b"plain\n"[..])
            .unwrap()
            .read_to_string(&mut plain)
            .unwrap();
        assert_eq!(plain, "plain\n");
        // A truncated gzip is an error, not a silent end.
        let cut = &gz[..gz.len() - 6];
        let mut l = Lines::new(decompress(cut).unwrap());
        let mut result = Ok(None);
        for _ in 0..10 {
            result = l.next_line().map(|o| o.map(|_| ()));
            if !matches!(result, Ok(Some(()))) {
                break;
            }
        }
        assert!(matches!(result, Err(InputError::Io(_))), "{result:?}");
    }
}
