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
pub struct Lines<R> {
    inner: R,
    bytes: Vec<u8>,
    text: String,
    line_no: u64,
}

impl<R: BufRead> Lines<R> {
    /// Lines of `inner`.
    pub fn new(inner: R) -> Lines<R> {
        Lines {
            inner,
            bytes: Vec::with_capacity(256),
            text: String::with_capacity(256),
            line_no: 0,
        }
    }

    /// Lines read so far.
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The next line, `None` at the end of the stream.
    pub fn next_line(&mut self) -> Result<Option<Line<'_>>, InputError> {
        if self.whole_line_in_buffer()? {
            return Ok(Some(Line::Text(&self.text)));
        }
        self.bytes.clear();
        let mut overlong = false;
        let mut any = false;
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(InputError::Io(e)),
            };
            if buf.is_empty() {
                if !any {
                    return Ok(None);
                }
                break;
            }
            any = true;
            let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..i], i + 1),
                None => (buf, buf.len()),
            };
            let found_newline = done > chunk.len();
            if chunk.contains(&0) {
                return Err(InputError::Binary {
                    line: self.line_no + 1,
                });
            }
            if !overlong {
                if self.bytes.len() + chunk.len() > MAX_LINE {
                    overlong = true;
                    self.bytes.clear();
                } else {
                    self.bytes.extend_from_slice(chunk);
                }
            }
            self.inner.consume(done);
            if found_newline {
                break;
            }
        }
        self.line_no += 1;
        if overlong {
            return Ok(Some(Line::Overlong));
        }
        if self.bytes.last() == Some(&b'\r') {
            self.bytes.pop();
        }
        decode_into(&self.bytes, &mut self.text);
        Ok(Some(Line::Text(&self.text)))
    }
}

impl<R: BufRead> Lines<R> {
    /// The common case, one copy: the next line lies whole in the reader's
    /// buffer and is not too long. Decodes it into `text` and returns true;
    /// false leaves everything to the general path.
    fn whole_line_in_buffer(&mut self) -> Result<bool, InputError> {
        let buf = match self.inner.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(false),
            Err(e) => return Err(InputError::Io(e)),
        };
        let Some(i) = buf.iter().position(|&b| b == b'\n') else {
            return Ok(false);
        };
        let line = &buf[..i];
        if line.len() > MAX_LINE {
            return Ok(false);
        }
        if line.contains(&0) {
            return Err(InputError::Binary {
                line: self.line_no + 1,
            });
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        decode_into(line, &mut self.text);
        self.inner.consume(i + 1);
        self.line_no += 1;
        Ok(true)
    }
}

/// UTF-8 when the bytes are valid UTF-8, else every byte as its Latin-1 character.
pub fn decode_into(bytes: &[u8], out: &mut String) {
    out.clear();
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => out.extend(bytes.iter().map(|&b| char::from(b))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn lines(bytes: &[u8]) -> Vec<String> {
        let mut l = Lines::new(bytes);
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
