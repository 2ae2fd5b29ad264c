//! Whole LOBSTER files: every line parsed, good rows and typed errors side by side so that one
//! bad row never stops the rest.

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

#[cfg(test)]
mod tests {
    use super::*;

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
