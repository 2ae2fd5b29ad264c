//! Whole LOBSTER files: every line parsed, good rows and typed errors side by side so that one
//! bad row never stops the rest. Files may be gzip-compressed (`.csv.gz`, as LOBSTER's full-day
//! samples are): [`open_lobster`] recognises them by their magic bytes and decompresses while
//! reading, and [`read_messages`] / [`read_orderbook`] parse line by line from any reader.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use super::error::LobsterError;
use super::message::{LobsterMessage, parse_message_row};
use super::orderbook::{BookRow, parse_book_row};

/// Lines of a LOBSTER file, numbered from 1; a final empty line (trailing newline) is not a row.
fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.split('\n')
        .enumerate()
        .filter(move |_| !text.is_empty())
        .map(|(i, line)| (i + 1, line))
}

/// Parses every line of a message file; entry `k - 1` is line `k`.
pub fn parse_messages(text: &str) -> Vec<Result<LobsterMessage, LobsterError>> {
    numbered_lines(text)
        .map(|(line, row)| parse_message_row(row, line))
        .collect()
}

/// Parses every line of a book file; entry `k - 1` is line `k`. The depth N is taken from the
/// first well-formed row and every other row must match it.
pub fn parse_orderbook(text: &str) -> Vec<Result<BookRow, LobsterError>> {
    let mut depth = None;
    numbered_lines(text)
        .map(|(line, row)| {
            let parsed = parse_book_row(row, line, depth);
            if let Ok(r) = &parsed {
                depth.get_or_insert(r.depth);
            }
            parsed
        })
        .collect()
}

/// The two bytes every gzip member starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens a LOBSTER file for reading: plain CSV, or gzip (a `.csv.gz`, recognised by its magic
/// bytes whatever its name), decompressed as it is read.
pub fn open_lobster(path: &Path) -> io::Result<Box<dyn BufRead>> {
    let mut file = BufReader::with_capacity(1 << 16, File::open(path)?);
    let gzip = file.fill_buf()?.starts_with(&GZIP_MAGIC);
    Ok(if gzip {
        Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(file)))
    } else {
        Box::new(file)
    })
}

/// Reads a whole LOBSTER file (plain or gzip) as text, for the readers that take `&str`.
pub fn read_lobster_text(path: &Path) -> io::Result<String> {
    let mut text = String::new();
    open_lobster(path)?.read_to_string(&mut text)?;
    Ok(text)
}

/// Calls `each(line_number, line)` for every line of `input` (numbered from 1, the newline and
/// a carriage return stripped; a final newline does not start a line). A line that is not UTF-8
/// is passed with its bad bytes replaced, so that it fails as a row, not the whole file.
fn for_each_line(mut input: impl BufRead, mut each: impl FnMut(usize, &str)) -> io::Result<()> {
    let mut buf = Vec::with_capacity(512);
    let mut line = 0usize;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        line += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        match std::str::from_utf8(&buf) {
            Ok(text) => each(line, text),
            Err(_) => each(line, String::from_utf8_lossy(&buf).as_ref()),
        }
    }
}

/// [`parse_messages`] over a reader (e.g. [`open_lobster`]): the file is parsed as it streams.
pub fn read_messages(input: impl BufRead) -> io::Result<Vec<Result<LobsterMessage, LobsterError>>> {
    let mut out = Vec::new();
    for_each_line(input, |line, row| out.push(parse_message_row(row, line)))?;
    Ok(out)
}

/// [`parse_orderbook`] over a reader (e.g. [`open_lobster`]): the file is parsed as it streams.
pub fn read_orderbook(input: impl BufRead) -> io::Result<Vec<Result<BookRow, LobsterError>>> {
    let mut depth = None;
    let mut out = Vec::new();
    for_each_line(input, |line, row| {
        let parsed = parse_book_row(row, line, depth);
        if let Ok(r) = &parsed {
            depth.get_or_insert(r.depth);
        }
        out.push(parsed);
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn gzip_files_read_like_plain_ones() {
        let messages = "34200.1,1,1,1,100,1\nbad\n34200.2,3,1,1,100,1\n";
        let dir = std::env::temp_dir().join(format!("kestrel-lobster-gz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let plain = dir.join("m.csv");
        let gz = dir.join("m.csv.gz");
        std::fs::write(&plain, messages).unwrap();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(messages.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let expected = parse_messages(messages);
        for path in [&plain, &gz] {
            assert_eq!(
                read_messages(open_lobster(path).unwrap()).unwrap(),
                expected
            );
            assert_eq!(read_lobster_text(path).unwrap(), messages);
        }
        // A corrupt gzip body is an I/O error, not rows.
        let mut bytes = std::fs::read(&gz).unwrap();
        let mid = bytes.len() / 2;
        bytes.truncate(mid);
        std::fs::write(&gz, bytes).unwrap();
        assert!(read_lobster_text(&gz).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn streamed_lines_number_like_text_lines() {
        let text = "100,1,90,1\r\n100,1\n\n101,1,90,2";
        let books = read_orderbook(text.as_bytes()).unwrap();
        assert_eq!(books, parse_orderbook(text));
        let rows = read_messages(&b"34200.1,1,1,1,100,1\n\xff,1\n"[..]).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].as_ref().unwrap_err().line, 2);
    }

    #[test]
    fn line_numbers_survive_bad_rows() {
        let rows = parse_messages("34200.1,1,1,1,100,1\nbad\n34200.2,3,1,1,100,1\n");
        assert_eq!(rows.len(), 3);
        assert!(rows[0].is_ok());
        assert_eq!(rows[1].as_ref().unwrap_err().line, 2);
        assert_eq!(rows[2].as_ref().unwrap().line, 3);
        assert!(parse_messages("").is_empty());
        let books = parse_orderbook("100,1,90,1\n100,1\n101,1,90,2");
        assert_eq!(books.len(), 3);
        assert_eq!(books[1].as_ref().unwrap_err().line, 2);
        assert_eq!(books[2].as_ref().unwrap().line, 3);
    }
}
