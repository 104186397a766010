//! CSV as spreadsheets write it (RFC 4180): a cell quoted when needed, with a
//! leading `= + - @`, tab or carriage return defused so a spreadsheet never runs customer text as a
//! formula (`cell`), and the reading of a whole file — quoted cells with
//! doubled quotes and line breaks, CRLF or LF, a byte-order mark — back into
//! rows (`parse`), undoing that defusing (`value`).

/// Most rows a file may have.
pub const MAX_ROWS: usize = 100_000;

/// One CSV field: quoted when needed; a leading = + - @ is defused.
pub fn cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{v}") } else { v.to_string() };
    if v.contains([',', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v }
}

/// A cell's value as written before `cell` defused it.
pub fn value(v: &str) -> &str {
    match v.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => v,
    }
}

/// Why a CSV text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// A quoted cell opened on this line never ends.
    Unclosed { line: usize },
    /// More than `MAX_ROWS` rows.
    TooManyRows,
}

/// The rows of a CSV text (empty lines left out).
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut line, mut opened_at) = (false, 1usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cur.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    cur.push('\n');
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                c => cur.push(c),
            }
            continue;
        }
        match c {
            '"' if cur.is_empty() => {
                quoted = true;
                opened_at = line;
            }
            ',' => row.push(std::mem::take(&mut cur)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                line += 1;
                row.push(std::mem::take(&mut cur));
                if !(row.len() == 1 && row[0].is_empty()) {
                    rows.push(std::mem::take(&mut row));
                } else {
                    row.clear();
                }
                if rows.len() > MAX_ROWS {
                    return Err(ParseError::TooManyRows);
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(ParseError::Unclosed { line: opened_at });
    }
    row.push(cur);
    if !(row.len() == 1 && row[0].is_empty()) {
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(value("'+49 30 1234"), "+49 30 1234");
        assert_eq!(value("'quoted"), "'quoted");
    }

    #[test]
    fn files_parse_as_spreadsheets_write_them() {
        let rows = parse("\u{feff}name,email\r\n\"Doe, Jane\",jane@x.test\r\n\r\n\"two\nlines\",\"say \"\"hi\"\"\"\nlast,").unwrap();
        assert_eq!(rows, vec![vec!["name", "email"], vec!["Doe, Jane", "jane@x.test"], vec!["two\nlines", "say \"hi\""], vec!["last", ""]]);
        assert_eq!(parse("a\n\"open,b\nc").unwrap_err(), ParseError::Unclosed { line: 2 });
        assert!(parse("").unwrap().is_empty());
    }

    proptest! {
        #[test]
        // (A carriage return inside a cell reads back as the line break it
        // makes; a value that itself starts with a defusing quote loses it, and
        // a byte-order mark at the very start is taken for the file's.)
        fn what_cell_writes_parse_reads_back(cells in proptest::collection::vec(proptest::collection::vec("([^\r'\u{feff}][^\r]{0,15})?", 1..5), 1..5)) {
            let text: String = cells.iter().map(|r| r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",") + "\r\n").collect();
            let back = parse(&text).unwrap();
            let want: Vec<Vec<String>> = cells.into_iter().filter(|r| !(r.len() == 1 && cell(&r[0]).is_empty())).collect();
            let got: Vec<Vec<String>> = back.iter().map(|r| r.iter().map(|c| value(c).to_string()).collect()).collect();
            prop_assert_eq!(got, want);
        }
    }
}
